/** GET /analytics/warnings (supervisor): see api.ts. */
export { warnings as handler } from './api.ts';
