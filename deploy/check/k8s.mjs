#!/usr/bin/env node
// Validates Kubernetes manifests offline, with no cluster (kubectl's --validate needs one to
// fetch the OpenAPI schema):
//  1. each document against the API's JSON schema for its apiVersion and kind (kubernetes-models:
//     required fields, types, formats, enums);
//  2. each document as a TypeScript literal of the API type (kubernetes-models' declarations),
//     which refuses the fields the schema lets through unnoticed: a misspelt key anywhere
//     (`livenesProbe`) is an excess property;
//  3. booktape's own consistency rules: SHARD_COUNT equals replicas, every $(VAR) in a
//     container's command or args is an env var of that container (Kubernetes leaves an
//     unknown one as literal text), every mount has a volume, every probe port is declared,
//     and selectors, the service name and referenced ConfigMaps match the set.
//
//   node deploy/check/k8s.mjs DIR|FILE.yaml...   exit 0: valid; 1: problems (listed); 2: usage
//
// Each directory (its *.yaml files) is a set checked on its own for rule 3, and the files given
// one by one are one more set; rules 1 and 2 run once over every document (one type check for
// all, so the tests check many broken sets in one run). Problems start with the file's path.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: node k8s.mjs DIR|FILE.yaml... (Kubernetes manifests; exit 1 on problems)");
  process.exit(2);
}
const sets = [];  // each: the files checked together by rule 3
const loose = [];
for (const a of args) {
  if (fs.statSync(a, { throwIfNoEntry: false })?.isDirectory()) {
    sets.push(fs.readdirSync(a).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(a, f)));
  } else {
    loose.push(a);
  }
}
if (loose.length > 0) sets.push(loose);
const files = sets.flat();

// apiVersion + kind -> the kubernetes-models module and its interface.
function modelOf(doc) {
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : ["", doc.apiVersion];
  const dir = group === "" ? version : `${group}/${version}`;
  return { module: `kubernetes-models/${dir}/${doc.kind}`, type: `I${doc.kind}` };
}

const docs = [];  // {where, doc, model, set}
sets.forEach((set, setIndex) => set.forEach((file) => {
  const text = fs.readFileSync(file, "utf8");
  parseAllDocuments(text).forEach((d, i) => {
    const where = `${file}#${i}`;
    for (const e of [...d.errors, ...d.warnings]) problem(where, `YAML: ${e.message}`);
    const doc = d.toJS();
    if (doc === null || doc === undefined) return;
    if (doc.kind === "Kustomization") {
      for (const r of doc.resources ?? []) {
        if (!fs.existsSync(path.join(path.dirname(file), r))) problem(where, `resource ${r} does not exist`);
      }
      return;
    }
    if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
      problem(where, "no apiVersion or kind");
      return;
    }
    docs.push({ where: `${where} ${doc.kind}/${doc.metadata?.name}`, doc, model: modelOf(doc), set: setIndex });
  });
}));

// 1. The API's JSON schema.
for (const d of docs) {
  let Model;
  try {
    Model = (await import(d.model.module))[d.doc.kind];
  } catch {
    problem(d.where, `no schema for apiVersion ${d.doc.apiVersion} kind ${d.doc.kind}`);
    continue;
  }
  try {
    new Model(d.doc).validate();
  } catch (e) {
    for (const line of String(e.message).split("\n")) problem(d.where, `schema: ${line}`);
  }
}

// 2. Excess properties, through the type checker.
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "booktape-k8s-"));
  const source = path.join(dir, "manifests.ts");
  const lines = [];
  const origin = [];  // line in the generated file -> document
  docs.forEach((d, i) => {
    lines.push(`import type { ${d.model.type} as T${i} } from "${d.model.module}";`);
  });
  docs.forEach((d, i) => {
    const body = JSON.stringify(d.doc, null, 2).split("\n");
    body.forEach(() => origin.push(d));
    lines.push(`export const doc${i}: T${i} = ${body.join("\n")};`);
  });
  fs.writeFileSync(source, lines.join("\n") + "\n");
  const models = path.dirname(require.resolve("kubernetes-models/package.json"));
  const program = ts.createProgram([source], {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    target: ts.ScriptTarget.ES2020,
    baseUrl: here,
    paths: { "kubernetes-models/*": [`${models}/*`] },
  });
  const sf = program.getSourceFile(source);
  for (const diag of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(diag.messageText, " ");
    if (diag.file === sf && diag.start !== undefined) {
      const { line } = sf.getLineAndCharacterOfPosition(diag.start);
      const d = origin[line - docs.length] ?? { where: "manifests" };
      const near = sf.text.split("\n")[line].trim();
      problem(d.where, `type: ${text} (at ${near})`);
    } else {
      problem("validator", `type checker: ${text}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

// 3. booktape's consistency rules, within each set.
sets.forEach((_, setIndex) => {
  const inSet = docs.filter((d) => d.set === setIndex);
  const named = (kind, name) => inSet.find((d) => d.doc.kind === kind && d.doc.metadata?.name === name);
  const matches = (selector, labels) =>
    Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  for (const d of inSet) {
    const doc = d.doc;
    if (doc.kind !== "StatefulSet") continue;
    const pod = doc.spec?.template?.spec ?? {};
    const labels = doc.spec?.template?.metadata?.labels ?? {};
    if (!matches(doc.spec?.selector?.matchLabels, labels)) problem(d.where, "selector does not match the pod labels");
    if (!named("Service", doc.spec?.serviceName)) problem(d.where, `serviceName ${doc.spec?.serviceName}: no such Service in the set`);
    const volumes = new Set([
      ...(pod.volumes ?? []).map((v) => v.name),
      ...(doc.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata?.name),
    ]);
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !named("ConfigMap", v.configMap.name)) problem(d.where, `volume ${v.name}: no ConfigMap ${v.configMap.name} in the set`);
    }
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      const at = `${d.where} container ${c.name}`;
      const env = new Set((c.env ?? []).map((e) => e.name));
      for (const word of [...(c.command ?? []), ...(c.args ?? [])]) {
        for (const m of word.matchAll(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          if (!env.has(m[1])) problem(at, `$(${m[1]}) is not an env var of the container: Kubernetes would pass it literally`);
        }
      }
      const shards = (c.env ?? []).find((e) => e.name === "SHARD_COUNT");
      if (shards && String(shards.value) !== String(doc.spec?.replicas ?? 1)) {
        problem(at, `SHARD_COUNT ${shards.value} differs from replicas ${doc.spec?.replicas ?? 1}: shards would be missed or recorded twice`);
      }
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) problem(at, `volumeMount ${m.name}: no such volume or claim template`);
      }
      const ports = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (port !== undefined && !ports.has(port)) problem(at, `${probe} port ${port} is not a port of the container`);
      }
    }
    for (const other of inSet) {
      const sel = other.doc.kind === "Service" ? other.doc.spec?.selector
        : other.doc.kind === "PodDisruptionBudget" ? other.doc.spec?.selector?.matchLabels : undefined;
      if (sel && !matches(sel, labels)) problem(other.where, `selector does not match the pods of ${d.where}`);
    }
  }
});

for (const p of problems) console.log(p);
console.log(`k8s-validate: ${docs.length} documents in ${files.length} files, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
