// The registry client of the engine: image references, credentials, the HTTP client, check sessions.
export * from './reference.js';
export * from './credentials.js';
export * from './errors.js';
export * from './manifest.js';
export * from './client.js';
export * from './session.js';
