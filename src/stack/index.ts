// The stack API: build, start, attach to, describe and remove the reference stack.
export * from './docker-client.js';
export * from './config.js';
export * from './attached-stack.js';
export * from './attach.js';
export * from './reference-stack.js';
export * from './servers.js';
export * from './tls.js';
export * from './doctor.js';
export { ensureBaseImage, findBaseImage } from './base-image.js';
export { buildImages, IMAGE_NAMES, type ImageTags } from './images.js';
export { detectCompose } from './compose.js';
