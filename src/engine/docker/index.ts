export * from './containers.js';
export * from './endpoint.js';
export * from './engine.js';
export * from './errors.js';
export * from './runtime-digest.js';
export * from './state-cache.js';
