// The API's vocabulary (wire values from shared/domain) and the rules the portal checks before
// sending, so a batch isn't half-applied by a problem the browser can see.

/** Services under `serviceDetails`, in the order the portal lists them. */
export const SERVICES = [
  { key: 'teamsOperatorConnect', label: 'Teams Operator Connect', short: 'Operator Connect', sync: true, teams: true, sipHeader: true },
  { key: 'teamsPhoneMobile', label: 'Teams Phone Mobile', short: 'Teams Phone Mobile', sync: true, teams: true, sipHeader: false },
  { key: 'teamsDirectRouting', label: 'Teams Direct Routing', short: 'Direct Routing', sync: true, teams: false, sipHeader: true },
  { key: 'zoomPhoneCloudPeering', label: 'Zoom Phone Cloud Peering', short: 'Zoom', sync: true, teams: false, sipHeader: true },
  { key: 'azureOperatorCallProtection', label: 'Azure Operator Call Protection', short: 'Call Protection', sync: false, teams: false, sipHeader: false },
];

export const SERVICE = Object.fromEntries(SERVICES.map((s) => [s.key, s]));

/** number.rs `Usage`. */
export const USAGES = [
  { value: 'CallingUserAssignment', label: 'Calling users (CallingUserAssignment)' },
  { value: 'FirstPartyAppAssignment', label: 'Applications (FirstPartyAppAssignment)' },
  { value: 'ConferenceAssignment', label: 'Conferencing (ConferenceAssignment)' },
];

/** number.rs `Capability`. */
export const CAPABILITIES = [
  { value: 'InboundCalling', label: 'Inbound calling' },
  { value: 'OutboundCalling', label: 'Outbound calling' },
  { value: 'Mobile', label: 'Mobile' },
];

/** rfi.rs `RelationshipStatus`; the last two need a reason (the comment). */
export const RELATIONSHIP_STATUSES = [
  { value: 'ConsentAcknowledged', label: 'Consent acknowledged' },
  { value: 'CustomerContacted', label: 'Customer contacted' },
  { value: 'AgreementSigned', label: 'Agreement signed' },
  { value: 'ConsentDeclined', label: 'Consent declined', needsReason: true },
  { value: 'ContractTerminated', label: 'Contract terminated', needsReason: true },
];

export function relationshipLabel(value) {
  return RELATIONSHIP_STATUSES.find((s) => s.value === value)?.label ?? value;
}

/** The sync's statuses (provisioning.rs `ProvisioningStatus`). */
export const SYNC_STATUSES = ['pending', 'synced', 'failed'];

const serviceEnabled = SERVICES.map((s) => ({ field: `serviceDetails.${s.key}.enabled`, label: `${s.short} enabled`, type: 'bool' }));

/** The point-and-click filters of the lists (each field is one of the API's FILTER_FIELDS). */
export const FILTER_FIELDS = {
  numbers: [
    { field: 'telephoneNumber', label: 'Number', type: 'text', placeholder: '+44…' },
    { field: 'serviceProvisioningStatus', label: 'Sync status', type: 'enum', values: SYNC_STATUSES },
    ...serviceEnabled,
    { field: 'configuration.customSipHeader', label: 'Custom SIP header', type: 'text' },
  ],
  allNumbers: [
    { field: 'telephoneNumber', label: 'Number', type: 'text', placeholder: '+44…' },
    { field: 'accountName', label: 'Account', type: 'text' },
    { field: 'serviceProvisioningStatus', label: 'Sync status', type: 'enum', values: SYNC_STATUSES },
    ...serviceEnabled,
  ],
  accounts: [
    { field: 'name', label: 'Name', type: 'text' },
    { field: 'serviceProvisioningStatus', label: 'Sync status', type: 'enum', values: SYNC_STATUSES },
    { field: 'serviceDetails.teamsTenantId', label: 'Tenant ID', type: 'text' },
    ...serviceEnabled,
  ],
  rfis: [
    { field: 'status', label: 'Consent', type: 'enum', values: ['active', 'suspended', 'removed'] },
    { field: 'customerRelationship.status', label: 'Relationship', type: 'enum', values: RELATIONSHIP_STATUSES.map((r) => r.value) },
    { field: 'tenantId', label: 'Tenant ID', type: 'text' },
    { field: 'accountName', label: 'Account', type: 'text' },
  ],
  civic: [
    { field: 'country', label: 'Country', type: 'text', placeholder: 'US' },
    { field: 'cityOrTown', label: 'City or town', type: 'text' },
    { field: 'companyName', label: 'Company', type: 'text' },
    { field: 'validationStatus', label: 'Validation', type: 'text' },
  ],
};

export const MAX_TICKET_ID = 64;
export const MAX_COMMENT = 1024;
/** Numbers per createOrUpdateNumbers / deleteNumbers call. */
export const MAX_BATCH = 100;

const E164 = /^\+[1-9]\d+$/;
const NAME = /^[A-Za-z0-9_-]{1,100}$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Why `tn` is not a valid number, or null. */
export function telephoneProblem(tn) {
  if (!E164.test(tn)) return 'must be E.164: a leading + then digits, starting with a country code';
  if (tn.length > 16) return 'may be at most 16 characters';
  return null;
}

export function isName(s) {
  return NAME.test(s);
}

export function isGuid(s) {
  return GUID.test(s);
}

/** Numbers typed or pasted into a box, each once, in E.164 as the API takes them. */
export function parseNumbers(text) {
  const seen = new Set();
  const out = [];
  // New lines, commas and semicolons separate numbers; inside one, spaces, dashes, dots and
  // brackets are how people write them ("+1 (425) 555-0102"). A space before a "+" starts the
  // next number, so "+15105850321 +15105850322" is still two.
  for (const piece of text.split(/[\n\r,;]+|\s+(?=\+)/)) {
    // "(0)" is the national trunk prefix some write after the country code: not dialled from abroad.
    const tn = piece.replace(/\(0\)/g, '').replace(/[\s().-]/g, '');
    if (tn && !seen.has(tn)) {
      seen.add(tn);
      out.push(tn);
    }
  }
  return out;
}

export function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The services a `serviceDetails` object has enabled, as SERVICES entries. */
export function enabledServices(serviceDetails) {
  return SERVICES.filter((s) => serviceDetails?.[s.key]?.enabled);
}

/** A number's Teams (OC or TPM) settings, if it has them. */
export function teamsConfig(number) {
  for (const s of SERVICES.filter((x) => x.teams)) {
    const svc = number.serviceDetails?.[s.key];
    if (svc?.enabled) return { service: s, svc, config: svc.configuration || {} };
  }
  return null;
}

/** A one-line civic address. */
export function addressLine(a) {
  const street = [a.houseNumber && `${a.houseNumber}${a.houseNumberSuffix || ''}`, a.preDirectional, a.streetName, a.streetSuffix, a.postDirectional]
    .filter(Boolean)
    .join(' ');
  const city = [a.cityOrTown, a.stateOrProvince, a.postalOrZipCode].filter(Boolean).join(' ');
  return [street, city, a.country].filter(Boolean).join(', ') || a.id;
}

export function locationLabel(l) {
  const name = l.description || l.id;
  return `${name}${l.isDefault ? ' (default)' : ''}${l.elin ? ` · ELIN ${l.elin}` : ''}`;
}

/** CSV headings, as number_csv.rs writes them (a JSON path with `.` written `_`). */
export function csvHeadings() {
  const teams = [
    'enabled',
    'assignmentStatus',
    'configuration_usage',
    'configuration_choosableCapabilities',
    'configuration_additionalUsages',
    'configuration_civicAddressId',
    'configuration_locationId',
    'configuration_allowTenantAddressUpdate',
    'configuration_displayedCountryCode',
  ];
  return [
    'telephoneNumber',
    'accountName',
    'configuration_customSipHeader',
    ...['teamsOperatorConnect', 'teamsPhoneMobile'].flatMap((s) => teams.map((t) => `serviceDetails_${s}_${t}`)),
    ...['teamsDirectRouting', 'zoomPhoneCloudPeering', 'azureOperatorCallProtection'].map((s) => `serviceDetails_${s}_enabled`),
  ];
}
