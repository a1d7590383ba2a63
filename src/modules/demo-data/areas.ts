// The demo area hierarchy: 1 country, 3 regions, 2 provinces each, 2 municipalities each,
// 3 villages each (36 villages). P-code style: each level appends two digits to its parent's code.

export interface DemoArea {
  code: string;
  name: string;
  kind: 'country' | 'region' | 'province' | 'municipality' | 'village';
  parentCode?: string;
}

export interface DemoVillage {
  code: string;
  name: string;
  municipality: string;
  province: string;
}

export const DEMO_COUNTRY_CODE = 'DM';

interface RegionSpec { name: string; provinces: Array<{ name: string; municipalities: Array<{ name: string; villages: string[] }> }> }

const hierarchy: RegionSpec[] = [
  {
    name: 'Northern Highlands',
    provinces: [
      { name: 'Alta Sierra', municipalities: [
        { name: 'San Isidro', villages: ['Poblacion', 'Malinis', 'Bagong Silang'] },
        { name: 'Santo Niño', villages: ['San Roque', 'Mabini', 'Kalayaan'] },
      ] },
      { name: 'Cordillera Verde', municipalities: [
        { name: 'Bayanihan', villages: ['Poblacion', 'Dagatan', 'Bundukin'] },
        { name: 'Malaya', villages: ['Maligaya', 'Tabing Ilog', 'Pinagpala'] },
      ] },
    ],
  },
  {
    name: 'Central Plains',
    provinces: [
      { name: 'Pampang Luntian', municipalities: [
        { name: 'San José', villages: ['Poblacion', 'Santa Cruz', 'Bagumbayan'] },
        { name: 'Masagana', villages: ['Palayan', 'Bukid', 'Magsaysay'] },
      ] },
      { name: 'Ilog Pinagmulan', municipalities: [
        { name: 'Santa Rosa', villages: ['Rizal', 'Sampaloc', 'Ibabaw'] },
        { name: 'Liwanag', villages: ['Poblacion', 'Bagong Pag-asa', 'Mapayapa'] },
      ] },
    ],
  },
  {
    name: 'Southern Coast',
    provinces: [
      { name: 'Baybayin', municipalities: [
        { name: 'Dalampasigan', villages: ['Pantalan', 'Buhangin', 'Parola'] },
        { name: 'Peñafrancia', villages: ['Poblacion', 'Niyugan', 'Look'] },
      ] },
      { name: 'Kapuluan', municipalities: [
        { name: 'Isla Verde', villages: ['Bato', 'Mangrove', 'Talampas'] },
        { name: 'Puerto Azul', villages: ['Daungan', 'San Nicolás', 'Punta'] },
      ] },
    ],
  },
];

const twoDigits = (index: number) => String(index + 1).padStart(2, '0');

function buildAreas(): { areas: DemoArea[]; villages: DemoVillage[] } {
  const areas: DemoArea[] = [{ code: DEMO_COUNTRY_CODE, name: 'Demo Republic', kind: 'country' }];
  const villages: DemoVillage[] = [];
  hierarchy.forEach((region, r) => {
    const regionCode = `${DEMO_COUNTRY_CODE}${twoDigits(r)}`;
    areas.push({ code: regionCode, name: region.name, kind: 'region', parentCode: DEMO_COUNTRY_CODE });
    region.provinces.forEach((province, p) => {
      const provinceCode = `${regionCode}${twoDigits(p)}`;
      areas.push({ code: provinceCode, name: province.name, kind: 'province', parentCode: regionCode });
      province.municipalities.forEach((municipality, m) => {
        const municipalityCode = `${provinceCode}${twoDigits(m)}`;
        areas.push({ code: municipalityCode, name: municipality.name, kind: 'municipality', parentCode: provinceCode });
        municipality.villages.forEach((village, v) => {
          const code = `${municipalityCode}${twoDigits(v)}`;
          areas.push({ code, name: village, kind: 'village', parentCode: municipalityCode });
          villages.push({ code, name: village, municipality: municipality.name, province: province.name });
        });
      });
    });
  });
  return { areas, villages };
}

const built = buildAreas();

/** Every demo area, parents before children, ready for `services.areas.importAreas`. */
export const DEMO_AREAS: readonly DemoArea[] = built.areas;

/** The villages households live in. */
export const DEMO_VILLAGES: readonly DemoVillage[] = built.villages;
