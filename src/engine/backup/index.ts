export * from './archive.js';
export * from './helper.js';
export * from './plan.js';
export * from './restore.js';
export * from './run.js';
