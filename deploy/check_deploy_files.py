#!/usr/bin/env python3
"""Structural checks of the deployment files that need no Docker engine and no cluster.

    python3 deploy/check_deploy_files.py compose deploy/compose.yaml
    python3 deploy/check_deploy_files.py kustomize DIR... [--resources-out FILE]

compose:   the file parses; every service has `image` or `build` (and a build's context and Dockerfile exist);
           every bind-mounted host path exists; every named volume is declared; every `depends_on` is a service.
kustomize: each DIR/kustomization.yaml parses with known top-level keys; every resource (file, or folder with a
           kustomization.yaml), patch and generator file exists; a providers ConfigMap generator lists every file
           of its providers/ folder, and each provider's `mapping:` file too. With --resources-out, writes the
           resource manifest files (not patches, which are partial) one a line, for kubernetes-validate.
config:    a gateway config file's keys are ones `caregate serve` knows (GatewayConfiguration) — it refuses others.
dockerfile: every COPY source outside a `--from` stage exists in the build context (the repository root).
Exit 1 naming every problem.
"""
import glob
import os
import sys

import yaml

problems = []


def problem(message):
    problems.append(message)


def load_yaml(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        problem(f"{path}: cannot read as YAML: {error}")
        return None


# ------------------------------------------------------------------------------------------------ compose

def check_compose(path):
    document = load_yaml(path)
    if not isinstance(document, dict):
        problem(f"{path}: not a mapping")
        return
    base = os.path.dirname(os.path.abspath(path))
    services = document.get("services") or {}
    if not services:
        problem(f"{path}: no services")
    declared_volumes = set((document.get("volumes") or {}).keys())
    for name, service in services.items():
        where = f"{path}: service {name}"
        if not isinstance(service, dict):
            problem(f"{where}: not a mapping")
            continue
        if "image" not in service and "build" not in service:
            problem(f"{where}: has neither image nor build")
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            context_path = os.path.normpath(os.path.join(base, context))
            if not os.path.isdir(context_path):
                problem(f"{where}: build context {context} does not exist")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not os.path.isfile(os.path.join(context_path, dockerfile)):
                problem(f"{where}: Dockerfile {dockerfile} not found in the build context")
        for volume in service.get("volumes") or []:
            if isinstance(volume, str):
                source = volume.split(":", 1)[0]
                kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            else:
                source, kind = volume.get("source", ""), volume.get("type", "volume")
            if kind == "bind":
                host = os.path.normpath(os.path.join(base, os.path.expanduser(source)))
                if not os.path.exists(host):
                    problem(f"{where}: bind-mounted host path {source} does not exist ({host})")
            elif kind == "volume" and source and source not in declared_volumes:
                problem(f"{where}: named volume {source} is not declared under top-level volumes")
        depends = service.get("depends_on") or []
        for other in (depends.keys() if isinstance(depends, dict) else depends):
            if other not in services:
                problem(f"{where}: depends_on unknown service {other}")
    if not problems:
        print(f"check_deploy_files: {path}: {len(services)} services, images/builds and bind mounts present")


# ---------------------------------------------------------------------------------------------- kustomize

KUSTOMIZATION_KEYS = {
    "apiVersion", "kind", "metadata", "namespace", "namePrefix", "nameSuffix", "labels", "commonLabels",
    "commonAnnotations", "resources", "components", "patches", "patchesStrategicMerge", "patchesJson6902",
    "images", "replicas", "configMapGenerator", "secretGenerator", "generatorOptions", "transformers",
    "generators", "vars", "replacements", "crds", "openapi", "buildMetadata", "sortOptions", "helmCharts",
}


def generator_files(generator):
    for entry in generator.get("files") or []:
        yield entry.split("=", 1)[1] if "=" in entry else entry
    for entry in generator.get("envs") or []:
        yield entry


def check_kustomization(folder, resource_files):
    path = os.path.join(folder, "kustomization.yaml")
    document = load_yaml(path)
    if not isinstance(document, dict):
        problem(f"{path}: missing or not a mapping")
        return
    if document.get("kind") != "Kustomization" or not str(document.get("apiVersion", "")).startswith(
            "kustomize.config.k8s.io/"):
        problem(f"{path}: expected apiVersion kustomize.config.k8s.io/… and kind Kustomization")
    for key in sorted(set(document) - KUSTOMIZATION_KEYS):
        problem(f"{path}: unknown key {key}")
    count = 0
    for resource in document.get("resources") or []:
        target = os.path.normpath(os.path.join(folder, resource))
        if os.path.isdir(target):
            if not os.path.isfile(os.path.join(target, "kustomization.yaml")):
                problem(f"{path}: resource folder {resource} has no kustomization.yaml")
        elif os.path.isfile(target):
            resource_files.append(target)
            count += 1
        elif "://" not in resource:
            problem(f"{path}: resource {resource} does not exist")
    for patch in document.get("patches") or []:
        patch_path = patch.get("path") if isinstance(patch, dict) else patch
        if patch_path:
            target = os.path.join(folder, patch_path)
            if not os.path.isfile(target):
                problem(f"{path}: patch {patch_path} does not exist")
            else:
                body = load_yaml(target)
                if not (isinstance(body, dict) and body.get("apiVersion") and body.get("kind")
                        and (body.get("metadata") or {}).get("name")):
                    problem(f"{target}: a patch needs apiVersion, kind and metadata.name")
    for key in ("configMapGenerator", "secretGenerator"):
        for generator in document.get(key) or []:
            listed = list(generator_files(generator))
            for name in listed:
                if not os.path.isfile(os.path.join(folder, name)):
                    problem(f"{path}: {key} {generator.get('name')}: file {name} does not exist")
            folders = {os.path.dirname(name) for name in listed if name.startswith("providers/")}
            for providers in folders:
                check_providers_generator(path, generator.get("name"), folder, providers, set(listed))
    print(f"check_deploy_files: {path}: {count} resource files, every referenced file present")


def check_providers_generator(path, name, folder, providers, listed):
    on_disk = sorted(f for f in os.listdir(os.path.join(folder, providers)) if f.endswith((".yaml", ".yml")))
    for file in on_disk:
        if f"{providers}/{file}" not in listed:
            problem(f"{path}: ConfigMap {name} does not list {providers}/{file}")
        if ".mapping." in file:
            continue
        definition = load_yaml(os.path.join(folder, providers, file)) or {}
        mapping = definition.get("mapping")
        if mapping and f"{providers}/{mapping}" not in listed:
            problem(f"{path}: {providers}/{file} names mapping {mapping}, which ConfigMap {name} does not hold")


# ------------------------------------------------------------------------------------- gateway config, Dockerfile

CONFIG_KEYS = {
    "host", "port", "providers", "deadline_ms", "data_dir", "policy", "auth", "store", "audit_disclosure", "executor",
    "provider_credentials", "tls", "schemas",
}
AUTH_KEYS = {"jwks_file", "jwks_url", "jwks_refresh_s", "jwks_ca_file", "issuer", "audience", "gateways"}


def check_config(path):
    document = load_yaml(path)
    if not isinstance(document, dict):
        problem(f"{path}: not a mapping")
        return
    for key in sorted(set(document) - CONFIG_KEYS):
        problem(f"{path}: unknown key {key} (serve refuses it)")
    auth = document.get("auth")
    if not isinstance(auth, dict) or not auth.get("issuer") or ("jwks_file" in auth) == ("jwks_url" in auth):
        problem(f"{path}: auth needs issuer and exactly one of jwks_file, jwks_url")
    elif set(auth) - AUTH_KEYS:
        problem(f"{path}: unknown auth keys {sorted(set(auth) - AUTH_KEYS)}")
    store = document.get("store")
    if store is not None and (set(store) != {"url"} or not str(store["url"]).startswith(("postgres://", "postgresql://"))):
        problem(f"{path}: store must be {{url: postgres://...}}")
    print(f"check_deploy_files: {path}: gateway config keys known")


def check_dockerfile(path, context):
    with open(path, encoding="utf-8") as handle:
        text = handle.read().replace("\\\n", " ")
    count = 0
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        if any(word.startswith("--from") for word in words[1:]):
            continue
        sources = [word for word in words[1:-1] if not word.startswith("--")]
        count += 1
        if not any(glob.glob(os.path.join(context, source)) for source in sources):
            problem(f"{path}: {line.strip()}: no source exists in {context}")
    print(f"check_deploy_files: {path}: {count} COPY instructions, sources present in the build context")


def main(arguments):
    if not arguments:
        sys.exit(__doc__)
    command, rest = arguments[0], arguments[1:]
    if command == "compose":
        for path in rest:
            check_compose(path)
    elif command == "kustomize":
        out = None
        if "--resources-out" in rest:
            index = rest.index("--resources-out")
            out = rest[index + 1]
            rest = rest[:index] + rest[index + 2:]
        resource_files = []
        for folder in rest:
            check_kustomization(folder, resource_files)
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.writelines(f + "\n" for f in resource_files)
    elif command == "config":
        for path in rest:
            check_config(path)
    elif command == "dockerfile":
        check_dockerfile(rest[0], rest[1] if len(rest) > 1 else ".")
    else:
        sys.exit(__doc__)
    for message in problems:
        print("check_deploy_files: " + message, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
