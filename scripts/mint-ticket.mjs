#!/usr/bin/env node
// Mints a ticket for a user, as the tenant's backend would after a password login.
//   node scripts/mint-ticket.mjs --tenant demo --secret <ticket_secret> --sub alice [--ttl 900] [--email a@x] [--link http://localhost:8787]
// Run scripts/dev first: it prints the demo tenant's ticket_secret.
import { parseArgs } from 'node:util';
import { mintTicket } from './lib/ticket.mjs';

const usage = 'usage: mint-ticket.mjs --tenant ID --secret TICKET_SECRET --sub USER [--ttl SECONDS] [--email EMAIL] [--link BASE_URL]\n'
  + '  --link prints the demo page\'s link with the ticket instead of the bare ticket';
let values;
try {
  ({ values } = parseArgs({
    options: {
      tenant: { type: 'string', default: 'demo' },
      secret: { type: 'string' },
      sub: { type: 'string', default: 'alice' },
      ttl: { type: 'string', default: '900' },
      email: { type: 'string' },
      link: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!values.secret) {
  console.error(usage);
  process.exit(2);
}
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1 || ttl > 900) {
  console.error('--ttl must be 1-900 seconds: edge-mfa refuses longer tickets');
  process.exit(2);
}
const extra = values.email ? { email: values.email } : {};
const ticket = await mintTicket({ tenant: values.tenant, secret: values.secret, sub: values.sub, ttl, extra });
console.log(values.link ? `${values.link.replace(/\/+$/, '')}/demo/#tenant=${encodeURIComponent(values.tenant)}&ticket=${ticket}` : ticket);
