/** GET /analytics/hotspots (supervisor): see api.ts. */
export { hotspots as handler } from './api.ts';
