export { ManagedProcess, waitFor, portOpen, type ProcessSpec } from './managed-process.js';
export { freePorts } from './ports.js';
