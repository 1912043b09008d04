export * from './compose-file.js';
export * from './config-files.js';
export * from './env-file.js';
export * from './image-ref.js';
export * from './scan.js';
