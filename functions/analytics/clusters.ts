/** GET /analytics/clusters (supervisor): see api.ts. */
export { clusters as handler } from './api.ts';
