import type { HandlerMap } from '../http/handler-types.js';
import { notImplemented } from './not-implemented.js';

export const updatesHandlers: Pick<HandlerMap, 'createUpdate'> = {
  createUpdate: notImplemented('createUpdate'),
};
