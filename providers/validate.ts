/**
 * Input validation for `check`: every failure names the property, the bad value (shortened, and never
 * anything secret: URL credentials are masked) and how to fix it. Pure: no network, no files.
 */
import type { Tag, UpgradeStrategy } from "./types";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** Tags the resource or aoconnect sets itself; a `tags` entry cannot override them. */
export const RESERVED_TAGS: Record<string, string> = {
  "Data-Protocol": "set by aoconnect",
  Variant: "set by aoconnect",
  Type: "set by aoconnect",
  Module: "use the `module` property",
  Scheduler: "use the `scheduler` property",
  SDK: "set by aoconnect",
  "Content-Type": "set by aoconnect",
  Name: "use the `name` property",
  Authority: "use the `authority` property",
  "Deployment-Id": "set by the resource to find its own spawn again",
};

/** ANS-104 limits for data item tags. */
export const MAX_TAGS = 128;
export const MAX_TAG_NAME_BYTES = 1024;
export const MAX_TAG_VALUE_BYTES = 3072;

const ARWEAVE_ID = /^[A-Za-z0-9_-]{43}$/;

/** A value for an error message: JSON-quoted, at most 80 characters. */
export function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? "undefined" : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

export function checkArweaveId(property: string, value: unknown, optional = false): CheckFailure[] {
  if (value === undefined && optional) return [];
  if (typeof value === "string" && ARWEAVE_ID.test(value)) return [];
  return [
    {
      property,
      reason: `${property} ${show(value)} is not an Arweave ID: expected 43 characters of base64url (A-Z a-z 0-9 - _), e.g. a transaction or wallet address from ao.link or the aos CLI.`,
    },
  ];
}

/** http(s) URL without credentials; the value shown has any user:password masked. */
export function checkUrl(property: string, value: unknown): CheckFailure[] {
  if (typeof value !== "string" || value === "") {
    return [
      {
        property,
        reason: `${property} ${show(value)} is missing: set an http(s) URL such as https://cu.ao-testnet.xyz.`,
      },
    ];
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [
      {
        property,
        reason: `${property} ${show(value)} is not a URL: use an absolute http(s) URL such as https://mu.ao-testnet.xyz.`,
      },
    ];
  }
  if (url.username || url.password) {
    url.username = url.username ? "***" : "";
    url.password = url.password ? "***" : "";
    return [
      {
        property,
        reason: `${property} ${show(url.toString())} contains credentials: remove them from the URL (AO units take none).`,
      },
    ];
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return [{ property, reason: `${property} ${show(value)} uses ${url.protocol}: use http: or https:.` }];
  }
  return [];
}

export function checkTags(property: string, value: unknown): CheckFailure[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    return [
      {
        property,
        reason: `${property} ${show(value)} is not a list: use [{ name: "...", value: "..." }, ...].`,
      },
    ];
  }
  const failures: CheckFailure[] = [];
  if (value.length > MAX_TAGS) {
    failures.push({
      property,
      reason: `${property} has ${value.length} tags: at most ${MAX_TAGS} are allowed on a data item; remove some.`,
    });
  }
  value.forEach((tag: Partial<Tag>, i) => {
    const p = `${property}[${i}]`;
    if (
      typeof tag !== "object" ||
      tag === null ||
      typeof tag.name !== "string" ||
      typeof tag.value !== "string"
    ) {
      failures.push({ property: p, reason: `${p} ${show(tag)} must be { name: string, value: string }.` });
      return;
    }
    if (tag.name === "")
      failures.push({ property: p, reason: `${p} has an empty name: give the tag a name.` });
    if (bytes(tag.name) > MAX_TAG_NAME_BYTES) {
      failures.push({
        property: p,
        reason: `${p} name ${show(tag.name)} is longer than ${MAX_TAG_NAME_BYTES} bytes: shorten it.`,
      });
    }
    if (bytes(tag.value) > MAX_TAG_VALUE_BYTES) {
      failures.push({
        property: p,
        reason: `${p} (${show(tag.name)}) value is longer than ${MAX_TAG_VALUE_BYTES} bytes: shorten it or send it as data.`,
      });
    }
    const reserved = Object.keys(RESERVED_TAGS).find((r) => r.toLowerCase() === tag.name!.toLowerCase());
    if (reserved) {
      failures.push({
        property: p,
        reason: `${p} name ${show(tag.name)} is reserved (${RESERVED_TAGS[reserved]}): remove it from tags.`,
      });
    }
  });
  return failures;
}

export function checkUpgrade(property: string, value: unknown): CheckFailure[] {
  if (value === undefined || value === "replace" || value === "eval") return [];
  return [
    {
      property,
      reason: `${property} ${show(value)} is not an upgrade strategy: use "replace" (default: a new process per code change) or "eval" (load the new code into the same process).`,
    },
  ];
}

export function checkValidation(property: string, value: unknown): CheckFailure[] {
  if (value === undefined) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [
      { property, reason: `${property} ${show(value)} must be an object { action?, hashTag?, skip? }.` },
    ];
  }
  const v = value as Record<string, unknown>;
  const failures: CheckFailure[] = [];
  for (const key of ["action", "hashTag"] as const) {
    const x = v[key];
    if (x !== undefined && (typeof x !== "string" || x === "" || bytes(x) > MAX_TAG_NAME_BYTES)) {
      failures.push({
        property: `${property}.${key}`,
        reason: `${property}.${key} ${show(x)} must be a non-empty string (a tag ${key === "action" ? "value" : "name"}).`,
      });
    }
  }
  if (v.skip !== undefined && typeof v.skip !== "boolean") {
    failures.push({
      property: `${property}.skip`,
      reason: `${property}.skip ${show(v.skip)} must be true or false.`,
    });
  }
  const unknown = Object.keys(v).filter((k) => !["action", "hashTag", "skip"].includes(k));
  if (unknown.length) {
    failures.push({
      property,
      reason: `${property} has unknown option(s) ${unknown.join(", ")}: use action, hashTag or skip.`,
    });
  }
  return failures;
}

export function checkName(property: string, value: unknown): CheckFailure[] {
  if (typeof value === "string" && value !== "" && bytes(value) <= MAX_TAG_VALUE_BYTES) return [];
  return [
    {
      property,
      reason: `${property} ${show(value)} must be a non-empty string of at most ${MAX_TAG_VALUE_BYTES} bytes (the process Name tag).`,
    },
  ];
}

export function checkCode(property: string, value: unknown): CheckFailure[] {
  if (typeof value === "string" && value.trim() !== "") return [];
  return [
    {
      property,
      reason: `${property} is empty or not a string: pass the Lua entry file (\`entry\`) or the code.`,
    },
  ];
}

/** Every failure for the raw (unchecked) inputs. */
export function validateInputs(news: Record<string, unknown>): CheckFailure[] {
  const endpoints = (news.endpoints ?? {}) as Record<string, unknown>;
  return [
    ...checkCode("code", news.code),
    ...checkArweaveId("module", news.module),
    ...checkArweaveId("scheduler", news.scheduler),
    ...checkArweaveId("authority", news.authority, true),
    ...checkArweaveId("adoptProcessId", news.adoptProcessId, true),
    ...checkName("name", news.name),
    ...checkTags("tags", news.tags),
    ...(typeof news.endpoints === "object" && news.endpoints !== null
      ? [
          ...checkUrl("endpoints.mu", endpoints.mu),
          ...checkUrl("endpoints.cu", endpoints.cu),
          ...checkUrl("endpoints.gateway", endpoints.gateway),
        ]
      : [
          {
            property: "endpoints",
            reason: `endpoints ${show(news.endpoints)} must be { mu, cu, gateway } URLs (messenger, compute unit, gateway).`,
          },
        ]),
    ...checkUpgrade("upgrade", news.upgrade as UpgradeStrategy | undefined),
    ...checkValidation("validation", news.validation),
  ];
}
