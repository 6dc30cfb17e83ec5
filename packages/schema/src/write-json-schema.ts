// Writes dist/site-config.schema.json, for editor autocompletion of site-config files.
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { siteConfigSchema } from './site-config.js';

const schema = z.toJSONSchema(siteConfigSchema, { io: 'input', unrepresentable: 'any' });
const out = new URL('./site-config.schema.json', import.meta.url);
writeFileSync(out, JSON.stringify({ ...schema, title: 'Cairn site config' }, null, 2) + '\n');
