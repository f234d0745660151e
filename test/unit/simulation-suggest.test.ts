import { describe, expect, it } from 'vitest';
import { evaluationRequests } from '#core/dispatch-model/evaluation-set';
import { makePlan, type PlannedCall } from '../../simulator/plan.ts';
import { dispatchFigures } from '../../simulator/run.ts';

const options = { seed: 7, volume: 400, days: 1 };
const independent = new Set(evaluationRequests().map((e) => `${e.topic}|${e.text}`));

describe("the simulator's suggestion mode (智能派单)", () => {
  it('files dispatched calls without a topic, in the independent set’s words, changing nothing else', () => {
    const plain = makePlan(options);
    const suggest = makePlan({ ...options, mix: { suggest: 1 } });
    expect(plain.some((p) => p.topicless || p.operatorTopic)).toBe(false);
    expect(suggest).toHaveLength(plain.length);
    for (const [i, p] of suggest.entries()) {
      const q = plain[i]!;
      // The same call, the same topic, unit behaviour and caller: only the words differ.
      expect({ ...p, content: '', topicless: undefined }).toEqual({
        ...q,
        content: '',
        topicless: undefined,
      });
      if (p.kind === 'dispatched' && p.township) {
        expect(p.topicless).toBe(true);
        const said = p.content.replace(/（[^）]*）$/, '');
        expect(independent.has(`${p.topic}|${said}`)).toBe(true);
      } else expect(p.topicless).toBeUndefined();
    }
    expect(suggest.some((p) => p.kind === 'duplicate')).toBe(true);
  });

  it('makes the operator pick another topic for the share of calls in operatorError', () => {
    const plan = makePlan({ ...options, mix: { operatorError: 1 } });
    const picked = plan.filter((p) => p.operatorTopic);
    expect(picked.length).toBeGreaterThan(50);
    for (const p of picked) expect(p.operatorTopic).not.toBe(p.topic);
  });

  it('reports the model’s figures and the returns each kind of wrong dispatch caused', () => {
    const call = (topic: string, extra: Partial<PlannedCall>) =>
      ({ topic, ...extra }) as PlannedCall;
    const figures = dispatchFigures([
      {
        plan: call('gas', { topicless: true }),
        choice: { suggestions: ['gas', 'power', 'heating'], automatic: true, outcome: 'right' },
      },
      {
        plan: call('gas', { topicless: true }),
        choice: { suggestions: ['power', 'gas', 'heating'], automatic: true, outcome: 'wrong' },
      },
      {
        plan: call('tax', { topicless: true }),
        choice: {
          suggestions: ['permits', 'market', 'labour'],
          automatic: false,
          outcome: 'manual',
        },
      },
      { plan: call('tax', { operatorTopic: 'permits' }), choice: { outcome: 'wrong' } },
      { plan: call('tax', {}) },
    ]);
    expect(figures).toEqual({
      suggested: 3,
      top1: 1 / 3,
      top3: 2 / 3,
      automatic: 2 / 3,
      automaticPrecision: 1 / 2,
      returnsAfterModel: 1,
      operatorErrors: 1,
      returnsAfterOperator: 1,
    });
  });
});
