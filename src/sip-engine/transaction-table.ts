// The live transactions, found by their RFC 3261 key (network side) and by id (app side), each with
// the app and dialog it serves until its final response.
import type { AppConnection } from './app-link.ts';
import type { Dialog } from './dialog.ts';
import { topBranch, type SipRequest } from './message.ts';
import {
  clientKey, newClientTransaction, newServerTransaction, type ClientTransaction, type ClientTu,
  type ServerTransaction, type ServerTu, type Transaction, type TxnHost,
} from './transactions.ts';
import type { Peer } from './transport.ts';

export interface Entry<T> { txn: T; app?: AppConnection; dialog?: Dialog }
export type ServerEntry = Entry<ServerTransaction>;
export type ClientEntry = Entry<ClientTransaction>;

class Table<T extends Transaction> {
  readonly byKey = new Map<string, Entry<T>>();
  readonly byId = new Map<string, Entry<T>>();

  add(key: string, entry: Entry<T>): Entry<T> {
    const { txn } = entry;
    this.byKey.set(key, entry);
    this.byId.set(txn.id, entry);
    // Answered: the entry only absorbs retransmissions from now on, so it lets go of the app and the dialog.
    txn.whenFinal(() => { entry.app = undefined; entry.dialog = undefined; });
    txn.whenTerminated(() => {
      if (this.byKey.get(key) === entry) this.byKey.delete(key);
      this.byId.delete(txn.id);
    });
    return entry;
  }
}

export class TransactionTable {
  readonly server = new Table<ServerTransaction>();
  readonly client = new Table<ClientTransaction>();

  constructor(private readonly host: TxnHost, private readonly serverTu: ServerTu, private readonly appDeadlineMs: number) {}

  get size(): number {
    return this.server.byId.size + this.client.byId.size;
  }

  all(): Entry<Transaction>[] {
    return [...this.server.byId.values(), ...this.client.byId.values()];
  }

  /** A network request's transaction; one the app must answer gets the engine's answer deadline (non-INVITE). */
  addServer(key: string, peer: Peer, req: SipRequest, app?: AppConnection, dialog?: Dialog): ServerEntry {
    const txn = newServerTransaction(key, this.host, peer, req, this.serverTu, app ? this.appDeadlineMs : undefined);
    return this.server.add(key, { txn, app, dialog });
  }

  /** A request the engine sends; `tu` hears its responses and timeouts. */
  addClient(req: SipRequest, peer: Peer, tu: (entry: ClientEntry) => ClientTu, app?: AppConnection, dialog?: Dialog): ClientEntry {
    const key = clientKey(topBranch(req) ?? '', req.method);
    const entry = { app, dialog } as ClientEntry;
    entry.txn = newClientTransaction(key, this.host, peer, req, tu(entry));
    return this.client.add(key, entry);
  }
}
