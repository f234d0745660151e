import { describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import { apiClient, eventually, replyIdFrom, startTestStack } from '../support/local-stack.ts';

// Its own file: the lifecycle configuration is read once per process, as in a Lambda container.
describe('reply review', () => {
  let reviewed: LocalStack;
  it('sends a reply back for rework, then approves it', async () => {
    reviewed = await startTestStack({
      start: new Date('2026-11-16T02:00:00Z'),
      lifecycleConfig: { replyReview: true },
    });
    try {
      const client = apiClient(reviewed);
      const created = await client('POST', '/tickets', {
        token: reviewed.tokens.operator,
        body: {
          noCallback: true,
          content: '路灯不亮',
          category: '求助',
          topic: 'urban-management',
          place: { district: 'qingshan', township: 'nanhu' },
        },
      });
      const id = created.body.id;
      await reviewed.sfn.waitForIdle();
      const link = replyIdFrom(reviewed.ses.messages().find((m) => m.subject.includes(id))!.text);
      const post = async (body: unknown) => {
        expect((await client('POST', `/replies/${link}`, { body })).status).toBe(200);
        await reviewed.sfn.waitForIdle();
      };
      const decideAs = async (body: unknown) => {
        expect(
          (
            await client('POST', `/tickets/${id}/decisions`, {
              token: reviewed.tokens.dispatcher,
              body,
            })
          ).status,
        ).toBe(200);
        await reviewed.sfn.waitForIdle();
      };
      await post({ action: 'sign' });
      await post({ action: 'reply', content: '已报修', resolved: false });
      await decideAs({ decision: 'return_reply', note: '请写明修复时间' });
      await post({ action: 'reply', content: '已于当日修复', resolved: true });
      await decideAs({ decision: 'approve_reply' });
      await eventually(async () => {
        const view = await client('GET', `/tickets/${id}`, { token: reviewed.tokens.supervisor });
        expect(view.body.history.map((h: { event: string }) => h.event)).toEqual([
          'received',
          'dispatched',
          'signed',
          'replied',
          'reply_returned',
          'replied',
          'reply_approved',
          'closed',
        ]);
      });
    } finally {
      await reviewed.close();
    }
  }, 120_000);
});
