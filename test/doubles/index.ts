// Local servers that speak the protocols of the notification services, started by the tests.
export * from './http-double.js';
export * from './webhook-receiver.js';
export * from './telegram-bot-api.js';
export * from './smtp-server.js';
export * from './push-service.js';
export * from './ntfy-server.js';
export * from './gotify-server.js';
export * from './discord-server.js';
export * from './slack-server.js';
export * from './notification-doubles.js';
