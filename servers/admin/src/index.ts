export { WebApi, type WebApiOptions, type WebCall } from './web-api.js';
export { WebArgs, ArgError } from './web-args.js';
export { InstanceRegistry } from './instance-registry.js';
