export { createAdminHandler } from './handler.ts';
export { ADMIN_ROUTES } from './routes.ts';
export { AdminError, ADMIN_ERRORS, type AdminErrorCode } from './errors.ts';
export type { AdminDeps, AdminHandler, AdminReply, AdminRequest, AdminRoute } from './types.ts';
export { statusBody } from './node-info.ts';
