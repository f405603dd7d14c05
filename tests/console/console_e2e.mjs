// The review console end to end in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core): the hold queue shows the
// case, a reviewer opens it (evidence and the trace graph), releases it with
// a reason, and the audit trail shows the release. Run by tests/api/test_console.c
// against a real `chainwatch serve`; every step asserts what the page shows
// and a failure exits 1 with what was missing. Screenshots go to SHOTS.
//
// Environment: CW_CONSOLE_URL (http://127.0.0.1:PORT), CW_API_KEY (role
// review), CW_CASE_ID (the case the page must show), CW_SHOTS (a directory),
// CW_CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';

const base = process.env.CW_CONSOLE_URL;
const key = process.env.CW_API_KEY;
const id = process.env.CW_CASE_ID;
const shots = process.env.CW_SHOTS || '.';
if (!base || !key || !id) {
  console.error('console_e2e: CW_CONSOLE_URL, CW_API_KEY and CW_CASE_ID are required');
  process.exit(2);
}

function fail(msg) {
  throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CW_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let status = 0;
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const consoleErrors = [];
page.on('pageerror', (e) => consoleErrors.push(String(e)));
try {
  // the queue: without a key it says so, with one it lists the case
  await page.goto(base + '/console/');
  await page.fill('#api-key', key);
  await page.click('#key-form button');
  const row = page.locator(`#queue tr.case-row[data-id="${id}"]`);
  await row.waitFor({ timeout: 10000 }).catch(() => fail(`the queue does not show case ${id}`));
  const rowText = await row.innerText();
  if (!rowText.includes('open')) fail(`the queue row is not open: ${rowText}`);
  if (!rowText.includes('0.30000000 BTC')) fail(`the queue row lacks the amount: ${rowText}`);
  await page.screenshot({ path: `${shots}/1-queue.png`, fullPage: true });

  // the case: evidence, a verified trail, the trace graph
  await row.locator('a').click();
  await page.waitForURL(/case\.html\?id=/);
  await page.locator('#evidence dd').first().waitFor({ timeout: 10000 }).catch(() => fail('no evidence shown'));
  const title = await page.textContent('#case-title');
  if (!title.includes(id)) fail(`the case page is about ${title}`);
  const evidence = await page.innerText('#evidence');
  for (const want of ['indirect_exposure', 'Test IT worker', '0957cd71aa76d1c0ee0d5184d6840a453200674a3ccf0aabb781968e1d82fddd']) {
    if (!evidence.includes(want)) fail(`the evidence lacks ${want}: ${evidence}`);
  }
  await page.locator('#graph svg g.node.subject').waitFor({ state: 'attached', timeout: 10000 }).catch(() => fail('no trace graph'));
  const nodes = await page.locator('#graph svg g.node').count();
  if (nodes < 3) fail(`the graph has ${nodes} nodes, 3 expected`);
  if (await page.locator('#graph svg g.node.designated').count() !== 1) fail('the graph lacks the designated source');
  const trail = await page.textContent('#trail-status');
  if (!trail.startsWith('verified')) fail(`the trail does not verify: ${trail}`);
  await page.screenshot({ path: `${shots}/2-case.png`, fullPage: true });

  // release it with a reason
  await page.fill('#actor', 'Alice Reviewer');
  await page.fill('#reason', 'Known customer; payout matches the signed contract (ticket 4711)');
  await page.click('button[data-action="release"]');
  const released = page.locator('#audit tr.audit-row[data-action="release"]');
  await released.waitFor({ timeout: 10000 }).catch(() => fail('the audit trail does not show the release'));
  const rel = await released.innerText();
  if (!rel.includes('Alice Reviewer') || !rel.includes('ticket 4711') || !rel.includes('released')) {
    fail(`the release entry is wrong: ${rel}`);
  }
  if ((await page.textContent('#state')) !== 'released') fail('the state did not change to released');
  if (!(await page.textContent('#trail-status')).startsWith('verified')) fail('the trail no longer verifies');
  if (!(await page.locator('button[data-action="release"]').isDisabled())) fail('release stays enabled');
  await page.screenshot({ path: `${shots}/3-released.png`, fullPage: true });

  // markup in an actor or reason is text on the page, never markup or script
  const evil = '<img src=x onerror="window.__cwxss=1"><script>window.__cwxss=2</script>';
  await page.fill('#actor', '<b onmouseover="window.__cwxss=3">Mallory</b>');
  await page.fill('#reason', evil);
  await page.click('button[data-action="note"]');
  const note = page.locator('#audit tr.audit-row[data-action="note"]');
  await note.waitFor({ timeout: 10000 }).catch(() => fail('the audit trail does not show the note'));
  const noteText = await note.innerText();
  if (!noteText.includes(evil) || !noteText.includes('<b onmouseover=')) fail(`the note is not shown as text: ${noteText}`);
  if ((await page.locator('#audit img, #audit script, #audit b').count()) !== 0) fail('markup from a reason became elements');
  await note.hover();
  if ((await page.evaluate(() => window.__cwxss)) !== undefined) fail('script from a reason or actor ran');

  // back in the queue: no longer open
  await page.goto(base + '/console/');
  await page.waitForTimeout(300);
  if (await page.locator(`#queue tr.case-row[data-id="${id}"]`).count() !== 0) fail('the released case is still in the open queue');
  await page.selectOption('#status', 'released');
  await page.locator(`#queue tr.case-row[data-id="${id}"]`).waitFor({ timeout: 10000 }).catch(() => fail('the case is not among the released'));
  await page.screenshot({ path: `${shots}/4-released-queue.png`, fullPage: true });
  if (consoleErrors.length) fail('script errors on the page: ' + consoleErrors.join('; '));
  console.log('console_e2e: ok');
} catch (e) {
  status = 1;
  console.error('console_e2e: ' + e.message);
  await page.screenshot({ path: `${shots}/failure.png`, fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(status);
