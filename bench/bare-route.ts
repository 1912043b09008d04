// The reference for API reads: a bare express route answering GET /api/stacks with a fixed body
// (the body Dockrev gave), started with the same node flags as the server. Argv: port, body file.
import { readFileSync } from 'node:fs';
import express from 'express';

const [port, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile!, 'utf8');
const app = express();
app.disable('x-powered-by');
app.get('/api/stacks', (_req, res) => {
  res.type('application/json').send(body);
});
app.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
