// A node:test reporter that prints only a closing "N passed, N failed" line (CI reads it).
export default async function* countReporter(source) {
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    // Only tests, not the suites (describe) around them.
    if (event.type === 'test:pass' && event.data.details?.type !== 'suite') passed += 1;
    if (event.type === 'test:fail' && event.data.details?.type !== 'suite') failed += 1;
  }
  yield `${passed} passed, ${failed} failed\n`;
}
