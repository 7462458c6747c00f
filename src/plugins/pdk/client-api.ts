import type { Consumer, Credential } from '../../config/types.ts';
import type { RequestContext } from '../../gateway/context.ts';
import { checkPhase } from './phase-guard.ts';
import type { PdkScope } from './request-api.ts';
import type { PdkClient } from './types.ts';

/** `kong.client`: who is calling, and the hand-over from auth plugins to the rest. */
export class ClientApi implements PdkClient {
  constructor(private readonly scope: PdkScope) {}

  private get ctx(): RequestContext {
    return this.scope.context;
  }

  getIp(): string {
    return this.ctx.clientIp;
  }
  getForwardedIp(): string {
    return this.ctx.clientIp;
  }
  getConsumer(): Consumer | undefined {
    return this.ctx.consumer;
  }
  getCredential(): Credential | undefined {
    return this.ctx.credential;
  }
  authenticate(consumer: Consumer | undefined, credential: Credential | undefined, options?: { anonymous?: boolean; identifier?: string }): void {
    checkPhase(this.scope.phase, ['access'], 'kong.client.authenticate');
    const ctx = this.ctx;
    ctx.consumer = consumer;
    ctx.credential = credential;
    ctx.anonymous = options?.anonymous === true;
    ctx.credentialIdentifier = options?.identifier;
  }
  loadConsumer(idOrUsername: string, byUsername = false): Consumer | undefined {
    const consumers = this.ctx.state.snapshot.consumers;
    if (!byUsername) {
      const byId = consumers.get(idOrUsername);
      if (byId) return byId;
    }
    for (const consumer of consumers.values()) if (consumer.username === idOrUsername) return consumer;
    return undefined;
  }
}
