export * from './touch.js';
export * from './site-config.js';
export * from './api.js';
