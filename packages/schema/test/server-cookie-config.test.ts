import { describe, expect, it } from 'vitest';
import { validateSiteConfig } from '../src/index.js';

const withCookie = (serverCookie: unknown) => validateSiteConfig({ site: 'shop', identity: { serverCookie } });

describe('identity.serverCookie', () => {
  it('takes a domain and defaults the name to cairn_sid', () => {
    const r = withCookie({ domain: '.shop.example' });
    expect(r.ok && r.config.identity?.serverCookie).toEqual({ domain: '.shop.example', name: 'cairn_sid' });
  });

  it('takes no domain: the cookie is host-only on the sync host either way', () => {
    const r = withCookie({});
    expect(r.ok && r.config.identity?.serverCookie).toEqual({ name: 'cairn_sid' });
  });

  it('refuses a name with a cookie prefix, which the server adds itself', () => {
    const r = withCookie({ name: '__Host-sid' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toBe('identity.serverCookie.name');
  });

  it('refuses a domain that is not one, naming the field', () => {
    const r = withCookie({ domain: 'https://shop.example/' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toBe('identity.serverCookie.domain');
  });

  it('refuses a name the SDK sets from script', () => {
    const r = withCookie({ domain: 'shop.example', name: 'cairn_id' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toBe('identity.serverCookie.name');
  });

  it('refuses unknown keys', () => {
    const r = withCookie({ domain: 'shop.example', secure: false });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toBe('identity.serverCookie');
  });
});
