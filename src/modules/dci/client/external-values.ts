import type { ExternalValueFetcher } from '../../rules/rules.external.js';
import type { RuleVariable } from '../../rules/rules.types.js';
import type { RegistryService } from '../../registry/registry.service.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import type { DciClients } from './dci-clients.module.js';

/**
 * The rules engine's external values from DCI registries. A variable's `definition` names what to
 * fetch: `dr.is_disabled`, `dr.has_disability`, `dr.wg.<Domain>` (Washington Group score 1–4),
 * `crvs.is_deceased`, `ibr.is_enrolled`. The registrant's national id is what the registries know.
 */
export class DciExternalValueFetcher implements ExternalValueFetcher {
  constructor(private readonly clients: DciClients, private readonly registry: RegistryService) {}

  async fetch(variable: RuleVariable, registrant: { uuid: string }): Promise<unknown> {
    const definition = (variable.definition ?? '').trim();
    const [registryName, what, detail] = definition.split('.');
    const individual = await this.registry.getIndividual({ actor: systemActor('dci-rules') }, registrant.uuid);
    const nationalId = individual.identifiers.find((identifier) => identifier.type === 'national-id')?.value;
    if (!nationalId) return null;
    switch (`${registryName}.${what}`) {
      case 'dr.is_disabled': return this.clients.dr.isDisabled('UIN', nationalId);
      case 'dr.has_disability': return (await this.clients.dr.statusByIdentifier('UIN', nationalId))?.hasDisability ?? null;
      case 'dr.wg': return (await this.clients.dr.statusByIdentifier('UIN', nationalId))?.functionalScores[detail ?? ''] ?? null;
      case 'crvs.is_deceased': return this.clients.crvs.isDeceased('UIN', nationalId);
      case 'ibr.is_enrolled': return (await this.clients.ibr.checkIdentifier('UIN', nationalId)).isDuplicate;
      default: throw new Error(`${variable.code}: "${definition}" is not a DCI value (dr.is_disabled, dr.has_disability, dr.wg.<Domain>, crvs.is_deceased, ibr.is_enrolled)`);
    }
  }
}
