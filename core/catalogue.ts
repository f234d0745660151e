import * as z from 'zod';
import type { Place } from './ticket.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a lower-case id');

export const areaSchema = z.strictObject({
  id,
  name: z.string().min(1),
  nameEn: z.string().min(1),
  kind: z.enum(['county', 'township']),
  parent: id.optional(),
});
export type Area = z.infer<typeof areaSchema>;

export const unitSchema = z.strictObject({
  id,
  name: z.string().min(1),
  nameEn: z.string().min(1),
  kind: z.enum(['department', 'township', 'enterprise']),
  parent: id.optional(),
  /** The area the unit is responsible for: the county for departments, its own for townships. */
  area: id,
  email: z.email(),
});
export type Unit = z.infer<typeof unitSchema>;

/** Stands for "the township or street where the matter is" in a dispatch rule. */
export const LOCAL_TOWNSHIP = '@township';

export const dispatchRuleSchema = z.strictObject({
  /** `*` for anywhere, else a county or township id; the most specific matching rule wins. */
  area: z.union([z.literal('*'), id]),
  lead: z.union([z.literal(LOCAL_TOWNSHIP), id]),
  assist: z.array(id).default([]),
});
export type DispatchRule = z.infer<typeof dispatchRuleSchema>;

export const topicSchema = z.strictObject({
  id,
  name: z.string().min(1),
  nameEn: z.string().min(1),
  /**
   * `department` matters belong to a functional department and must never be pushed down to a
   * township; `local` matters go straight to the township or street where they happen.
   */
  scope: z.enum(['department', 'local']),
  rules: z.array(dispatchRuleSchema).min(1),
});
export type Topic = z.infer<typeof topicSchema>;

export const catalogueSchema = z.strictObject({
  areas: z.array(areaSchema).min(1),
  units: z.array(unitSchema).min(1),
  topics: z.array(topicSchema).min(1),
});
export type Catalogue = z.infer<typeof catalogueSchema>;

export type RoutingDecision =
  | { kind: 'unit'; lead: string; assist: string[]; rule: DispatchRule }
  | { kind: 'manual'; reason: string };

function specificity(rule: DispatchRule, place: Place): number {
  if (rule.area === place.township) return 2;
  if (rule.area === place.district) return 1;
  if (rule.area === '*') return 0;
  return -1;
}

/**
 * Picks the lead and assisting units for a ticket from the dispatch catalogue (派单目录). When no
 * rule fits, the ticket goes to a dispatcher rather than to a guess: a wrong dispatch costs a
 * return and days of the citizen's time.
 */
export function routeByCatalogue(
  topic: Topic,
  place: Place,
  unitsById: ReadonlyMap<string, Unit>,
): RoutingDecision {
  const candidates = topic.rules
    .map((rule) => ({ rule, score: specificity(rule, place) }))
    .filter((c) => c.score >= 0)
    .sort((a, b) => b.score - a.score);
  const best = candidates[0]?.rule;
  if (!best) return { kind: 'manual', reason: `no dispatch rule for topic ${topic.id} here` };

  let lead: Unit | undefined;
  if (best.lead === LOCAL_TOWNSHIP) {
    if (!place.township) {
      return { kind: 'manual', reason: 'the township or street of the matter is not known' };
    }
    lead = [...unitsById.values()].find((u) => u.kind === 'township' && u.area === place.township);
  } else {
    lead = unitsById.get(best.lead);
  }
  if (!lead) return { kind: 'manual', reason: 'the catalogue names a unit that does not exist' };
  if (topic.scope === 'department' && lead.kind === 'township') {
    return { kind: 'manual', reason: 'a department matter may not be routed to a township' };
  }
  const assist = best.assist.filter((u) => u !== lead.id && unitsById.has(u));
  return { kind: 'unit', lead: lead.id, assist, rule: best };
}
