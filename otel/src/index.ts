export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.js';
export { JaegerServer, jaegerBinary, type JaegerOptions } from './jaeger.js';
