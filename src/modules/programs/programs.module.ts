import type { Db } from '../../platform/database/database.js';
import type { JobRunner } from '../../platform/jobs/job-runner.js';
import type { RuleService } from '../rules/rules.service.js';
import { CycleService, PREPARE_JOB } from './cycles/cycles.service.js';
import { cycleRoutes } from './cycles/cycles.routes.js';
import { ENROL_JOB, EnrolmentService, REVERIFY_JOB, type AreaAccess } from './enrolment/enrolment.service.js';
import { enrolmentRoutes } from './enrolment/enrolment.routes.js';
import { CREATE_BATCH_JOB, PaymentService, SEND_BATCH_JOB } from './payments/payments.service.js';
import { paymentRoutes } from './payments/payments.routes.js';
import { HttpDisbursementClient } from './payments/http-provider.js';
import { programRoutes } from './programs.routes.js';
import { ProgramService, type IdTypeCheck } from './programs.service.js';
import { ServicePointService, type AreaLookup } from './service-points/service-points.service.js';
import { servicePointRoutes } from './service-points/service-points.routes.js';

export interface Programs {
  programs: ProgramService;
  enrolment: EnrolmentService;
  cycles: CycleService;
  payments: PaymentService;
  servicePoints: ServicePointService;
  routes: Array<ReturnType<typeof programRoutes>>;
}

/** Wires the programs module: its services, job handlers and routes. */
export function createPrograms(deps: { db: Db; rules: RuleService; codes: IdTypeCheck; areas: AreaLookup; access: AreaAccess; jobs: JobRunner; publicUrl: string; paymentsHttpUrl?: string | undefined }): Programs {
  const { db } = deps;
  const servicePoints = new ServicePointService(db, deps.areas);
  // The IBR client is plugged into enrolment; programs ask it whether the check can be turned on.
  const ibr = { available: () => false };
  const programs = new ProgramService(db, { rules: deps.rules, codes: deps.codes, catalogue: servicePoints, ibrAvailable: () => ibr.available() });
  const enrolment = new EnrolmentService(db, { programs, rules: deps.rules, access: deps.access });
  ibr.available = () => enrolment.hasIbrClient();
  const cycles = new CycleService(db, { programs, rules: deps.rules });
  const payments = new PaymentService(db, { cycles, disbursement: deps.paymentsHttpUrl ? new HttpDisbursementClient(deps.paymentsHttpUrl) : undefined });
  deps.jobs.register(ENROL_JOB, enrolment.runEnrol.bind(enrolment));
  deps.jobs.register(REVERIFY_JOB, enrolment.runReverify.bind(enrolment));
  deps.jobs.register(PREPARE_JOB, cycles.runPrepare.bind(cycles));
  deps.jobs.register(CREATE_BATCH_JOB, payments.runCreateBatch.bind(payments));
  deps.jobs.register(SEND_BATCH_JOB, payments.runSend.bind(payments));
  return {
    programs, enrolment, cycles, payments, servicePoints,
    routes: [
      programRoutes(programs, db, deps.publicUrl), enrolmentRoutes(enrolment, deps.publicUrl), cycleRoutes(cycles, deps.publicUrl),
      paymentRoutes(payments, deps.publicUrl), servicePointRoutes(servicePoints, deps.publicUrl),
    ],
  };
}
