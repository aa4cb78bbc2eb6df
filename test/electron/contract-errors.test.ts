/**
 * How refusals reach the renderer's forms: a ContractError names the field to blame. A service name
 * already in use is refused by the control API (AlreadyExists) on `spec.name`, also when a follower
 * relays the call to the leader over gRPC, so the create form can show it under its Name field.
 */
import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../agent/api/objects';
import { ApiError } from '../../agent/api/errors';
import { ServiceHandlers } from '../../agent/manager/controlapi/services';
import { fromServiceError, toServerError } from '../../agent/rpc/status';
import { createLocalStore } from '../../agent/store';
import { toContractError } from '../../electron/main/errors';
import { formToSpec, messageForField, emptyServiceForm } from '../../renderer/src/forms/service-form-model';

const spec = (name: string): ServiceSpec => ({ name, labels: {}, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:1' } } });

async function duplicateNameRefusal(): Promise<unknown> {
  const services = new ServiceHandlers({ store: createLocalStore().store });
  await services.createService({ spec: spec('web') });
  return services.createService({ spec: spec('Web') }).then(
    () => expect.fail('a second service named web was created'),
    (err: unknown) => err,
  );
}

describe('contract errors', () => {
  it('a service name already in use is AlreadyExists on spec.name, with the control API\'s sentence', async () => {
    const error = toContractError(await duplicateNameRefusal());
    expect(error).toEqual({ code: 'AlreadyExists', field: 'spec.name', message: expect.stringMatching(/^service name "Web" is already in use by service \w+$/) });
    // The create form puts the whole sentence under its Name input.
    expect(formToSpec(emptyServiceForm()).fieldFor(error.field ?? '')).toBe('name');
    expect(messageForField(error.message, 'spec.name')).toBe(error.message);
  });

  it('keeps the field when a follower relays the call to the leader (gRPC status and metadata)', async () => {
    const onTheWire = toServerError(await duplicateNameRefusal());
    const relayed = toServerError(onTheWire); // the follower passes the leader's answer on
    const error = toContractError(fromServiceError(relayed, 'the leader'));
    expect(error).toMatchObject({ code: 'AlreadyExists', field: 'spec.name' });
  });

  it('names a field only where the thrower did, or for InvalidArgument where the message starts with one', () => {
    expect(toContractError(new ApiError('InvalidArgument', 'spec.task.container.image: required'))).toEqual({ code: 'InvalidArgument', message: 'spec.task.container.image: required', field: 'spec.task.container.image' });
    expect(toContractError(new ApiError('NotFound', 'spec.x: service abc not found'))).toEqual({ code: 'NotFound', message: 'spec.x: service abc not found' });
    expect(toContractError(new ApiError('FailedPrecondition', 'the token was refused', { details: { field: 'token' } }))).toMatchObject({ field: 'token' });
    expect(toContractError(new Error('boom'))).toEqual({ code: 'Internal', message: 'boom' });
  });
});
