/**
 * The regions this project sends to: the one place a region is validated, at every intake (API items,
 * task files, purge and schedule specs, CLI flags, job payloads) and when an endpoint is built.
 *
 * A region becomes a host name and a keep-alive pool of its own, so "looks like a region" is not
 * enough: 20,000 made-up regions would be 20,000 pools. Accepted are the DCS regions of Huawei Cloud's
 * official SDKs, and the regions the configuration names (DCS_REGION, DCS_EXTRA_REGIONS), which
 * loadConfig adds here: configuration is trusted, job data is not.
 */
import { z } from 'zod';

/** Huawei region ids: `cn-north-4`, `ap-southeast-1`, `eu-west-101`, `ru-northwest-2`, `ae-ad-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]{2,12}){1,2}-\d{1,3}$/;

/**
 * The DCS regions of the official Huawei Cloud SDKs (the Go SDK's `services/dcs/v2/region`, 27
 * regions, each served at `https://dcs.{region}.myhuaweicloud.com`). Written here as data.
 */
export const HUAWEI_DCS_REGIONS: readonly string[] = [
  'af-south-1',
  'ae-ad-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'cn-east-2',
  'cn-east-3',
  'cn-east-5',
  'cn-north-1',
  'cn-north-2',
  'cn-north-4',
  'cn-north-9',
  'cn-south-1',
  'cn-south-2',
  'cn-southwest-2',
  'eu-west-0',
  'eu-west-101',
  'la-north-2',
  'la-south-2',
  'me-east-1',
  'my-kualalumpur-1',
  'na-mexico-1',
  'ru-moscow-1',
  'ru-northwest-2',
  'sa-brazil-1',
  'tr-west-1',
];

const accepted = new Set<string>(HUAWEI_DCS_REGIONS);

/** Accepts the regions the configuration names, in this process, from now on. */
export function acceptConfiguredRegions(regions: Iterable<string>): void {
  for (const region of regions) if (REGION_PATTERN.test(region)) accepted.add(region);
}

/** True for an official DCS region or one the configuration names. */
export function isKnownRegion(region: string): boolean {
  return accepted.has(region);
}

const show = (value: unknown): string => JSON.stringify(String(value).slice(0, 40));
const UNKNOWN = 'not a Huawei Cloud DCS region (set DCS_REGION or DCS_EXTRA_REGIONS to use another)';

/** Why `region` is refused, naming the value; undefined when it is accepted. */
export function findRegionProblem(region: string): string | undefined {
  if (accepted.has(region)) return undefined;
  return REGION_PATTERN.test(region)
    ? `unknown region ${show(region)}: ${UNKNOWN}`
    : `must look like cn-north-4, got ${show(region)}`;
}

/** The zod schema of a region field: the field's path names it, the message names the value. */
export const regionSchema = z
  .string()
  .regex(REGION_PATTERN, {
    error: (issue) => `must look like cn-north-4, got ${show(issue.input)}`,
    abort: true,
  })
  .refine(isKnownRegion, { error: (issue) => `unknown region ${show(issue.input)}: ${UNKNOWN}` });
