import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import definition from '../../bench/polling-reminder.asl.json' with { type: 'json' };

/** The polling loop the "waiting" benchmark compares the lifecycle with must be a valid machine. */
describe('bench/polling-reminder.asl.json', () => {
  it('is valid ASL and loops Wait → read → Choice back to Wait', () => {
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid, errorsText()).toBe(true);
    expect(definition.States.WaitOneHour).toMatchObject({
      Type: 'Wait',
      Seconds: 3600,
      Next: 'ReadTicket',
    });
    expect(definition.States.DoneOrDue.Default).toBe('WaitOneHour');
    expect(definition.States.SendReminder.Next).toBe('WaitOneHour');
  });
});
