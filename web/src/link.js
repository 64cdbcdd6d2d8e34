// The console's one MQTT connection (MQTT.js over WebSocket) and the subscriptions that
// the panels share on it.
//
// Several panels may want the same messages: the message table subscribes to what the
// user asks for, the plots to '+/data', the status page to '$SYS/broker/#'. Overlapping
// subscriptions may make a broker deliver one copy per matching subscription (MQTT 5 does
// with mosquitto). So every filter gets one MQTT 5 subscription identifier, and a message
// copy reaches a panel ("group") only if it carries the id of that group's first matching
// filter. Without identifiers (MQTT 3.1.1) a broker sends one copy and topic matching
// decides alone.
import mqtt from './vendor/mqtt.esm.js';
import { topicMatches } from './util.js';

const MAX_FILTERS = 1000;

export class Link extends EventTarget {
  constructor() {
    super();
    this.client = null;
    this.state = 'disconnected'; // disconnected | connecting | connected | reconnecting | error
    this.detail = '';
    this.version = 4;
    this.url = '';
    this.clientId = '';
    this.filters = new Map(); // filter -> {id, groups: Map(group -> qos), granted}
    this.nextId = 1;
    this.handlers = new Map(); // group -> fn(message, ownerFilter)
  }

  /** Register the function that receives a group's messages. */
  onGroup(group, fn) {
    this.handlers.set(group, fn);
  }

  setState(state, detail = '') {
    this.state = state;
    this.detail = detail;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, detail } }));
  }

  /** Open a connection with the Connect panel's settings (see connect.js). */
  connect(s) {
    this.disconnect(true);
    const scheme = s.tls ? 'wss' : 'ws';
    const path = s.path.startsWith('/') ? s.path : '/' + s.path;
    const host = s.host.includes(':') && !s.host.startsWith('[') ? `[${s.host}]` : s.host;
    this.url = `${scheme}://${host}:${s.port}${path}`;
    this.version = s.version === 5 ? 5 : 4;
    this.clientId = s.clientId;
    // Kept for the panels that read /plots/ with the same login (HTTP Basic).
    this.username = s.username || '';
    this.password = s.password || '';
    const opts = {
      protocolVersion: this.version,
      clientId: s.clientId,
      clean: true,
      keepalive: 30,
      connectTimeout: 10000,
      reconnectPeriod: 3000,
      resubscribe: false,
    };
    if (s.username) opts.username = s.username;
    if (s.password) opts.password = s.password;
    this.setState('connecting', this.url);
    let client;
    try {
      client = mqtt.connect(this.url, opts);
    } catch (e) {
      this.setState('error', String(e.message || e));
      return;
    }
    this.client = client;
    client.on('connect', (connack) => {
      if (client !== this.client) return;
      const props = connack && connack.properties;
      this.subIdsAvailable = this.version === 5 && !(props && props.subscriptionIdentifiersAvailable === false);
      this.setState('connected', this.url);
      for (const f of this.filters.values()) f.granted = undefined;
      this.resubscribe();
    });
    client.on('reconnect', () => client === this.client && this.setState('reconnecting', this.url));
    client.on('close', () => {
      if (client === this.client && this.state === 'connected') this.setState('reconnecting', 'connection lost');
    });
    client.on('offline', () => client === this.client && this.setState('reconnecting', 'broker unreachable'));
    client.on('error', (err) => {
      if (client !== this.client) return;
      // Refused credentials or client id: retrying cannot help, so stop (3.1.1: 2, 4, 5; 5.0: 0x85-0x87, 0x8c).
      if ([2, 4, 5, 0x85, 0x86, 0x87, 0x8c].includes(err.code)) {
        this.client = null;
        client.end(true);
      }
      this.setState('error', String(err.message || err));
    });
    client.on('message', (topic, payload, packet) => client === this.client && this.route(topic, payload, packet));
  }

  /** Close the connection; quiet=true when a new one follows at once. */
  disconnect(quiet = false) {
    const c = this.client;
    this.client = null;
    if (c) c.end(true);
    if (!quiet) this.setState('disconnected');
  }

  get connected() {
    return !!this.client && this.client.connected;
  }

  /** Publish; resolves when the broker has it (QoS > 0) or it is written (QoS 0). */
  publish(topic, payload, { qos = 0, retain = false } = {}) {
    return new Promise((resolve, reject) => {
      if (!this.connected) return reject(new Error('Not connected'));
      this.client.publish(topic, payload, { qos, retain }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Add a group's interest in a filter and subscribe when connected. */
  subscribe(group, filter, qos = 0) {
    let f = this.filters.get(filter);
    if (!f) {
      if (this.filters.size >= MAX_FILTERS) return Promise.reject(new Error('Too many subscriptions'));
      f = { id: this.nextId++, groups: new Map(), granted: undefined };
      this.filters.set(filter, f);
    }
    f.groups.set(group, qos);
    return this.connected ? this.sendSubscribe(filter, f) : Promise.resolve(null);
  }

  /** Drop a group's interest; unsubscribe when no group wants the filter any more. */
  unsubscribe(group, filter) {
    const f = this.filters.get(filter);
    if (!f) return;
    f.groups.delete(group);
    if (f.groups.size) {
      if (this.connected) this.sendSubscribe(filter, f);
      return;
    }
    this.filters.delete(filter);
    if (this.connected) this.client.unsubscribe(filter);
  }

  resubscribe() {
    for (const [filter, f] of this.filters) this.sendSubscribe(filter, f);
  }

  sendSubscribe(filter, f) {
    const qos = Math.max(...f.groups.values());
    const opts = { qos };
    if (this.version === 5) {
      opts.properties = { subscriptionIdentifier: f.id };
      opts.rap = true; // retain as published: the tree learns which live messages were retained
    }
    return new Promise((resolve) => {
      this.client.subscribe(filter, opts, (err, granted) => {
        const g = granted && granted[0];
        f.granted = err ? 128 : g ? g.qos : 128;
        this.dispatchEvent(new CustomEvent('suback', { detail: { filter, granted: f.granted } }));
        resolve(f.granted);
      });
    });
  }

  /**
   * The lowest-id filter of group that matches topic: the one whose copy the group takes.
   * A filter the broker refused (an ACL) brings no copy, so it owns nothing.
   */
  owner(group, topic) {
    let best = null;
    for (const [filter, f] of this.filters) {
      if (f.granted >= 0x80) continue;
      if (f.groups.has(group) && (!best || f.id < best.f.id) && topicMatches(filter, topic)) best = { filter, f };
    }
    return best;
  }

  route(topic, payload, packet) {
    let ids = packet.properties && packet.properties.subscriptionIdentifier;
    if (ids !== undefined && !Array.isArray(ids)) ids = [ids];
    if (!this.subIdsAvailable) ids = undefined;
    const message = { topic, payload, qos: packet.qos, retain: !!packet.retain, time: Date.now() };
    for (const [group, fn] of this.handlers) {
      const own = this.owner(group, topic);
      if (!own || (ids && !ids.includes(own.f.id))) continue;
      try {
        fn(message, own.filter);
      } catch (e) {
        console.warn(`console: ${group} could not handle a message on ${topic}:`, e);
      }
    }
  }
}
