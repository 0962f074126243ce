// drachtio-fsmrf 4.1.2 ships no types; this covers only what freeswitch.ts calls.
declare module 'drachtio-fsmrf' {
  import { EventEmitter } from 'node:events';
  import type Srf from 'drachtio-srf';

  namespace Mrf {
    interface ConnectOptions {
      address: string;
      port?: number;
      secret?: string;
      /** Address FreeSWITCH's outbound event socket calls back; must be reachable from FreeSWITCH. */
      listenAddress?: string;
      listenPort?: number;
      advertisedAddress?: string;
      advertisedPort?: number;
      profile?: string;
    }

    interface DtmfEvent {
      dtmf: string;
      duration?: string;
      source?: string;
    }

    interface Endpoint extends EventEmitter {
      readonly uuid: string;
      readonly local: { sdp: string };
      readonly connected: boolean;
      play(file: string | string[]): Promise<{ playbackSeconds?: string; playbackMilliseconds?: string }>;
      api(command: string, args?: string | string[]): Promise<unknown>;
      execute(app: string, arg?: string): Promise<unknown>;
      destroy(): Promise<void>;
      /** Channel variables (set). */
      set(vars: Record<string, string>): Promise<unknown>;
      /** Re-INVITE toward FreeSWITCH with this SDP; resolves with its answer SDP. */
      modify(sdp: string): Promise<string>;
      getChannelVariables(includeMedia?: boolean): Promise<Record<string, string>>;
      addCustomEventListener(event: string, handler: (evt: unknown) => void): void;
      /** uuid_bridge with the other endpoint. */
      bridge(other: Endpoint | string): Promise<void>;
      on(event: 'dtmf', listener: (evt: DtmfEvent) => void): this;
      on(event: 'destroy', listener: (evt?: { reason?: string }) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }

    interface MediaServer extends EventEmitter {
      createEndpoint(opts?: { remoteSdp?: string; codecs?: string | string[]; headers?: Record<string, string> }): Promise<Endpoint>;
      disconnect(): void;
      connected(): boolean;
    }
  }

  class Mrf extends EventEmitter {
    constructor(srf: Srf, opts?: { customEvents?: string[] });
    connect(opts: Mrf.ConnectOptions): Promise<Mrf.MediaServer>;
  }

  export = Mrf;
}
