export { WebApi, type WebApiOptions, type WebCall } from './web-api.js';
export { WebArgs, ArgError } from './web-args.js';
export { regionReports, type RegionReport, type GatewayReport } from './region-report.js';
