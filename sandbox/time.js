// Timestamp formats used by the providers, each copied from their documentation.

// Pine Labs: "2024-06-28T13:26:06.909140Z" (microseconds).
export function isoMicros(ms) {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

// The instant as wall-clock time in a zone: the ISO text of the local time, and its offset.
function inZone(ms, format) {
  const name = format.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName').value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  const offset = m ? `${m[1]}${m[2]}:${m[3]}` : '+00:00';
  const offsetMs = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
  return { local: new Date(ms + offsetMs).toISOString(), offset };
}

const zone = (timeZone) => new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
const CHICAGO = zone('America/Chicago');
const KYIV = zone('Europe/Kyiv');

// ChargeOver: ISO 8601 in the account's zone, America/Chicago unless changed, e.g.
// "2022-10-25T08:50:45-05:00" (developer.chargeover.com/docs/api-information/datetimes).
export function coDatetime(ms) {
  const { local, offset } = inZone(ms, CHICAGO);
  return `${local.slice(0, 19)}${offset}`;
}

// AlliancePay tokenExpirationDateTime: "2025-02-27 12:12:34.0430 +0000" (UTC). The fraction is
// Java's SSSS, milliseconds padded to four digits: 430 ms is ".0430", as the Kyiv twin shows.
export function allianceUtc(ms) {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.0${iso.slice(20, 23)} +0000`;
}

// AlliancePay tokenExpiration: "2025-02-27 14:12:34.430+02:00", same instant in Kyiv time
// (+02:00 in winter, +03:00 in summer).
export function allianceKyiv(ms) {
  const { local, offset } = inZone(ms, KYIV);
  return `${local.slice(0, 10)} ${local.slice(11, 23)}${offset}`;
}
