export * from './ts.js';
export * from './ids.js';
export * from './errors.js';
export * from './frames.js';
export * from './records.js';
export * from './web-api.js';
export * from './message.js';
export * from './objects.js';
