import { startPaymentSimulator } from '../modules/programs/payments/payment-simulator.js';

/** `commonweal sim payments`: a simulated disbursement API until interrupted (point PAYMENTS_HTTP_URL at it). */
export async function simPaymentsCommand(options: { port: number; host: string; delayMs: number; failRate: number }): Promise<void> {
  const simulator = await startPaymentSimulator(options);
  console.log(`Simulated disbursement API at ${simulator.url} (settles after ${options.delayMs} ms, fails ${Math.round(options.failRate * 100)}%); set PAYMENTS_HTTP_URL=${simulator.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(`Stopping: ${JSON.stringify(simulator.stats())}`);
  await simulator.close();
}
