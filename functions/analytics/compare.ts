/** GET /analytics/compare (supervisor): see api.ts. */
export { compare as handler } from './api.ts';
