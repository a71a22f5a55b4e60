"""deploy/k8s.yaml and deploy/Dockerfile: cookie affinity, health probes and production settings, read from the files.

No cluster runs here; these tests only parse the manifests (PyYAML) and the Dockerfile.
"""

from __future__ import annotations

import shlex

import pytest

from .conftest import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install -e '.[test]')")

K8S = ROOT / "deploy" / "k8s.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HEALTH = "/_stcore/health"


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    """The manifests by kind (one of each)."""
    out = {}
    for doc in yaml.safe_load_all(K8S.read_text()):
        assert doc["kind"] not in out, f"two {doc['kind']}s"
        out[doc["kind"]] = doc
    return out


def test_ingress_sticks_by_cookie(docs):
    ingress = docs["Ingress"]
    a = ingress["metadata"]["annotations"]
    assert a["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert a["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert a["nginx.ingress.kubernetes.io/session-cookie-name"]
    assert a["nginx.ingress.kubernetes.io/session-cookie-path"] == "/"
    assert int(a["nginx.ingress.kubernetes.io/session-cookie-max-age"]) >= 2 * 3600  # outlasts a lecture
    assert a["nginx.ingress.kubernetes.io/session-cookie-change-on-failure"] == "true"
    # nothing that pins by client address (a lecture hall is one NAT address)
    assert not any("upstream-hash-by" in k or "source" in str(v) for k, v in a.items())
    # websockets stay open for long
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(a[f"nginx.ingress.kubernetes.io/{key}"]) >= 600
    assert all(isinstance(v, str) for v in a.values())  # annotations must be strings
    assert ingress["spec"]["ingressClassName"] == "nginx"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]


def test_service_selects_the_pods(docs):
    pod_labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    selector = docs["Service"]["spec"]["selector"]
    assert selector.items() <= pod_labels.items()
    assert docs["Deployment"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    port = docs["Service"]["spec"]["ports"][0]
    container_ports = {p["name"]: p["containerPort"] for p in _container(docs)["ports"]}
    assert port["targetPort"] in container_ports


def _container(docs) -> dict:
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def test_probes_use_the_health_endpoint(docs):
    container = _container(docs)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == HEALTH, probe
        assert get["port"] in ports or get["port"] in ports.values(), probe
    # the startup probe runs the app once (warm-up, and a broken script never becomes ready)
    assert container["startupProbe"]["httpGet"]["path"] == "/_stcore/script-health-check"
    # readiness reacts faster than liveness restarts
    ready, live = container["readinessProbe"], container["livenessProbe"]
    assert ready["periodSeconds"] * ready["failureThreshold"] <= live["periodSeconds"] * live["failureThreshold"]


def test_pods_run_as_non_root_with_one_core_and_a_shared_cookie_secret(docs):
    spec = docs["Deployment"]["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    container = _container(docs)
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["limits"]["cpu"] == "1"  # one GIL per process
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]
    assert docs["Deployment"]["spec"]["replicas"] >= 2
    assert docs["PodDisruptionBudget"]["spec"]["selector"] == docs["Deployment"]["spec"]["selector"]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_runs_as_non_root_in_production_settings():
    instructions = _dockerfile_instructions()
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    cmd = next(rest for word, rest in reversed(instructions) if word == "CMD")
    args = yaml.safe_load(cmd)  # the exec form is a JSON list
    assert args[:3] == ["python", "deploy/replica.py", "run"]  # TCP_NODELAY launcher
    options = dict(zip(args[4::2], args[5::2]))
    assert options["--server.headless"] == "true"
    assert options["--server.fileWatcherType"] == "none"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.enableXsrfProtection"] == "true"
    assert options["--runner.postScriptGC"] == "false"
    assert options["--server.port"] == "8501"
    assert options["--server.scriptHealthCheckEnabled"] == "true"  # the startup probe's endpoint
    healthcheck = next(rest for word, rest in instructions if word == "HEALTHCHECK")
    assert HEALTH in healthcheck
    assert "EXPOSE" in dict(instructions) and shlex.split(dict(instructions)["EXPOSE"]) == ["8501"]


def test_dockerfile_and_serve_give_the_same_streamlit_options():
    """One list of production settings: deploy/serve.py's replicas and the container must not drift apart."""
    import sys

    sys.path.insert(0, str(ROOT / "deploy"))
    from serve import PRODUCTION_OPTIONS

    cmd = next(rest for word, rest in reversed(_dockerfile_instructions()) if word == "CMD")
    args = yaml.safe_load(cmd)
    options = {k.removeprefix("--"): v for k, v in zip(args[4::2], args[5::2])}
    assert {k: options.get(k) for k in PRODUCTION_OPTIONS} == PRODUCTION_OPTIONS


def test_the_image_holds_what_the_app_runs():
    """Every COPY source exists, and the entry script, its page scripts and the launcher are copied (the draft
    copied a pages/ folder that had become views/: the build would have failed)."""
    from bpviz.ui.navigation import PAGES

    copies = [shlex.split(line)[1:] for line in DOCKERFILE.read_text().splitlines() if line.startswith("COPY ")]
    sources = [src for *srcs, _ in copies for src in srcs]
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
    needed = {"app.py", "bpviz", "deploy/replica.py", ".streamlit", "pyproject.toml"}
    needed |= {p.path.split("/")[0] for p in PAGES}  # the page scripts' folder
    assert needed <= set(sources), needed - set(sources)
