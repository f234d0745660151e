import * as z from 'zod';

/** Ticket numbers: the day in Asia/Shanghai and a daily sequence, e.g. 20261121-000123. */
export const TICKET_ID_PATTERN = /^\d{8}-\d{6}$/;
export const ticketIdSchema = z.string().regex(TICKET_ID_PATTERN, 'must look like 20261121-000123');
