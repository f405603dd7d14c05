// The review console shows every amount in its asset, exactly: an Ethereum
// USDT hold (an amount above 2^53 base units, which floating point would
// round) and a 1-wei ETH hold in the queue and on the case page, and the
// printable blocking report of the USDT case after a reviewer blocks it.
// Run by tests/api/test_cases_api.c against a real `chainwatch serve`.
//
// Environment: CW_CONSOLE_URL, CW_API_KEY (role review), CW_USDT_ID and
// CW_WEI_ID (the two cases), CW_SHOTS, CW_CHROMIUM.
import { chromium } from 'playwright-core';

const base = process.env.CW_CONSOLE_URL;
const key = process.env.CW_API_KEY;
const usdt = process.env.CW_USDT_ID;
const wei = process.env.CW_WEI_ID;
const shots = process.env.CW_SHOTS || '.';
if (!base || !key || !usdt || !wei) {
  console.error('console_amounts: CW_CONSOLE_URL, CW_API_KEY, CW_USDT_ID and CW_WEI_ID are required');
  process.exit(2);
}
// 12345678901234567 base units of a 6-decimal token (Python:
// format(Decimal(12345678901234567).scaleb(-6), 'f')); Number() would
// make it 12345678901234568
const USDT_TEXT = '12345678901.234567 USDT';
const WEI_TEXT = '0.000000000000000001 ETH';
const CONTRACT = '0xdac17f958d2ee523a2206206994597c13d831ec7';

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
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
try {
  await page.goto(base + '/console/');
  await page.fill('#api-key', key);
  await page.click('#key-form button');
  const row = page.locator(`#queue tr.case-row[data-id="${usdt}"]`);
  await row.waitFor({ timeout: 10000 }).catch(() => fail(`the queue does not show case ${usdt}`));
  const rowText = await row.innerText();
  if (!rowText.includes(USDT_TEXT)) fail(`the USDT row lacks '${USDT_TEXT}': ${rowText}`);
  const weiRow = await page.locator(`#queue tr.case-row[data-id="${wei}"]`).innerText();
  if (!weiRow.includes(WEI_TEXT)) fail(`the 1-wei row lacks '${WEI_TEXT}': ${weiRow}`);
  if ((await page.innerText('#queue')).includes('?')) fail('an amount in the queue is shown as ?');
  await page.screenshot({ path: `${shots}/amounts-1-queue.png`, fullPage: true });

  await row.locator('a').click();
  await page.waitForURL(/case\.html\?id=/);
  await page.locator('#evidence dd').first().waitFor({ timeout: 10000 }).catch(() => fail('no evidence shown'));
  const evidence = await page.innerText('#evidence');
  if (!evidence.includes(USDT_TEXT)) fail(`the evidence lacks '${USDT_TEXT}': ${evidence}`);
  if (!evidence.includes(CONTRACT)) fail(`the evidence lacks the token contract: ${evidence}`);
  await page.screenshot({ path: `${shots}/amounts-2-case.png`, fullPage: true });

  await page.fill('#actor', 'Bob Reviewer');
  await page.fill('#reason', 'Payout traced to Lazarus Group funds');
  await page.click('button[data-action="block"]');
  await page.locator('#audit tr.audit-row[data-action="block"]').waitFor({ timeout: 10000 }).catch(() => fail('no block entry'));
  if (await page.locator('#report').isHidden()) fail('the report button is hidden on a blocked case');
  // the printable report the console opens
  const html = await page.evaluate(async (id) => {
    const r = await fetch('/v1/cases/' + encodeURIComponent(id) + '/report.html', {
      headers: { 'X-API-Key': sessionStorage.getItem('chainwatch-api-key') },
    });
    return r.text();
  }, usdt);
  if (!html.includes('<td>' + USDT_TEXT + '</td>')) fail(`the report page lacks '${USDT_TEXT}'`);
  if (!html.includes('12345678901.234567 USDT paid to')) fail('the report description lacks the exact amount and asset');
  await page.setContent(html);
  await page.screenshot({ path: `${shots}/amounts-3-report.png`, fullPage: true });
  if (errors.length) fail('script errors on the page: ' + errors.join('; '));
  console.log('console_amounts: ok');
} catch (e) {
  status = 1;
  console.error('console_amounts: ' + e.message);
  await page.screenshot({ path: `${shots}/amounts-failure.png`, fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(status);
