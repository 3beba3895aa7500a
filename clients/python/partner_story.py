"""The start of the MTM partner story, played by a Python gRPC client through the gateway.

The operator registers the partner and a customer and enrols the partner; the partner's
Global admin appoints its tenant managers; the customer lays out a site with a room and
invites the partner (its domain, one UPN, that site, 7 days); a tenant manager sees the
invitation but none of the customer's rooms, and accepts it. Every answer is checked; any
failure exits non-zero.

Run it through run.sh, which generates the stubs this imports. Without --address it starts
its own suite (`mtm-local --no-demo` in a temporary directory) and stops it afterwards; with
--address it needs a suite started with `--no-demo` that has not played this story yet.
"""

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading

import grpc

from mtm.common.v1 import context_pb2
from mtm.identity.v1 import auth_pb2, auth_pb2_grpc
from mtm.rooms.v1 import (
    room_group_pb2,
    room_group_pb2_grpc,
    room_pb2,
    room_service_pb2,
    room_service_pb2_grpc,
)
from mtm.tenancy.v1 import (
    invitation_pb2,
    invitation_service_pb2,
    invitation_service_pb2_grpc,
    tenant_manager_pb2,
    tenant_manager_pb2_grpc,
    tenant_pb2,
    tenant_service_pb2,
    tenant_service_pb2_grpc,
)
from mtm.common.v1 import tenant_pb2 as common_tenant_pb2

DEMO_PASSWORD = "mtm-demo-password"
PARTNER = ("contoso-partner", "Contoso Partner", "contoso-partner.com", "admin", "Ana Admin")
CUSTOMER = ("fabrikam", "Fabrikam", "fabrikam.com", "mmr-admin", "MMR Admin")


class Session:
    """A signed-in user: its token goes with every call."""

    def __init__(self, channel, upn, password):
        answer = auth_pb2_grpc.AuthServiceStub(channel).SignIn(
            auth_pb2.SignInRequest(upn=upn, password=password)
        )
        self.upn = upn
        self.user = answer.user
        self.tenant = answer.tenant
        self.metadata = (("authorization", f"Bearer {answer.access_token}"),)

    def __repr__(self):
        return f"Session({self.upn})"


def step(title):
    print(f"story: {title}", flush=True)


def expect_code(code, call, what):
    try:
        answer = call()
    except grpc.RpcError as error:
        assert error.code() == code, f"{what}: expected {code}, got {error.code()}: {error.details()}"
        return
    raise AssertionError(f"{what}: expected {code}, got an answer: {answer}")


def register_tenant(operator, tenants, spec, kind):
    tenant_id, display_name, domain, admin, admin_name = spec
    tenant = tenants.CreateTenant(
        tenant_service_pb2.CreateTenantRequest(
            tenant=tenant_pb2.Tenant(display_name=display_name, kind=kind),
            tenant_id=tenant_id,
            domains=[domain],
            first_admin_upn=f"{admin}@{domain}",
            first_admin_display_name=admin_name,
            first_admin_password=DEMO_PASSWORD,
        ),
        metadata=operator.metadata,
    ).tenant
    assert tenant.name == f"tenants/{tenant_id}", tenant
    assert tenant.state == tenant_pb2.Tenant.STATE_ACTIVE, tenant


def play(channel, operator_password):
    step("the operator registers the partner and a customer, and enrols the partner")
    operator = Session(channel, "operator", operator_password)
    tenants = tenant_service_pb2_grpc.TenantServiceStub(channel)
    register_tenant(operator, tenants, PARTNER, common_tenant_pb2.TENANT_KIND_PARTNER)
    register_tenant(operator, tenants, CUSTOMER, common_tenant_pb2.TENANT_KIND_CUSTOMER)
    profile = tenants.EnrollElitePartner(
        tenant_service_pb2.EnrollElitePartnerRequest(name=f"partners/{PARTNER[0]}"),
        metadata=operator.metadata,
    ).partner_profile
    assert profile.elite_status == tenant_pb2.PartnerProfile.ELITE_STATUS_ENROLLED, profile

    step("the partner's Global admin makes its tenant-managers group tenant managers")
    partner_admin = Session(channel, f"admin@{PARTNER[2]}", DEMO_PASSWORD)
    group = f"tenants/{PARTNER[0]}/groups/tenant-managers"
    manager = tenant_manager_pb2_grpc.TenantManagerServiceStub(channel).AddTenantManager(
        tenant_manager_pb2.AddTenantManagerRequest(parent=f"partners/{PARTNER[0]}", member=group),
        metadata=partner_admin.metadata,
    ).tenant_manager
    assert manager.member == group, manager

    step("the customer lays out a site with a room and invites the partner")
    customer_admin = Session(channel, f"mmr-admin@{CUSTOMER[2]}", DEMO_PASSWORD)
    customer = f"customers/{CUSTOMER[0]}"
    site = room_group_pb2_grpc.RoomGroupServiceStub(channel).CreateRoomGroup(
        room_group_pb2.CreateRoomGroupRequest(
            parent=customer,
            room_group=room_group_pb2.RoomGroup(display_name="Berlin"),
            room_group_id="berlin",
        ),
        metadata=customer_admin.metadata,
    ).room_group
    rooms = room_service_pb2_grpc.RoomServiceStub(channel)
    room = rooms.CreateRoom(
        room_service_pb2.CreateRoomRequest(
            parent=customer,
            room=room_pb2.Room(display_name="Spree", room_group=site.name, capacity=8),
            room_id="spree",
        ),
        metadata=customer_admin.metadata,
    ).room
    assert room.name == f"{customer}/rooms/spree", room
    invitations = invitation_service_pb2_grpc.InvitationServiceStub(channel)
    created = invitations.CreateInvitation(
        invitation_service_pb2.CreateInvitationRequest(
            parent=customer,
            partner_domain=PARTNER[2],
            invited_upns=[f"admin@{PARTNER[2]}"],
            room_scope=context_pb2.RoomScope(room_groups=[site.name]),
            lifetime_days=7,
            accept_terms=True,
        ),
        metadata=customer_admin.metadata,
    ).invitations
    assert len(created) == 1, created
    invitation = created[0]
    assert invitation.state == invitation_pb2.Invitation.STATE_PENDING, invitation
    assert invitation.lifetime_days == 7, invitation

    step("a tenant manager sees the invitation but no customer data")
    manager = Session(channel, f"lena@{PARTNER[2]}", DEMO_PASSWORD)
    received = invitations.ListReceivedInvitations(
        invitation_service_pb2.ListReceivedInvitationsRequest(parent=f"partners/{PARTNER[0]}"),
        metadata=manager.metadata,
    ).invitations
    seen = [i for i in received if i.name == invitation.name]
    assert len(seen) == 1, f"{invitation.name} not among {received}"
    assert seen[0].customer_domain == CUSTOMER[2], seen[0]
    assert not seen[0].HasField("room_scope"), "the partner sees no room names"
    assert seen[0].scope_summary.room_group_count == 1, seen[0].scope_summary
    expect_code(
        grpc.StatusCode.NOT_FOUND,
        lambda: rooms.ListRooms(
            room_service_pb2.ListRoomsRequest(parent=customer), metadata=manager.metadata
        ),
        "a tenant manager lists the customer's rooms",
    )

    step("the tenant manager accepts")
    accepted = invitations.AcceptInvitation(
        invitation_service_pb2.AcceptInvitationRequest(name=invitation.name),
        metadata=manager.metadata,
    )
    assert accepted.created_relationship, accepted
    assert accepted.relationship.customer == customer, accepted.relationship
    assert accepted.relationship.state == common_tenant_pb2.RELATIONSHIP_STATE_ACTIVE
    assert accepted.invitation.state == invitation_pb2.Invitation.STATE_ACCEPTED
    print("story: the start of the partner story passed", flush=True)


@contextlib.contextmanager
def local_suite():
    """Starts `mtm-local --no-demo` in a temporary directory; yields (address, CA, password file)."""
    with tempfile.TemporaryDirectory(prefix="mtm-python-") as data_dir:
        process = subprocess.Popen(
            [
                "cargo", "run", "--quiet", "-p", "mtm-e2e", "--bin", "mtm-local", "--",
                "--no-demo", "--data-dir", data_dir, "--gateway-listen", "127.0.0.1:0",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            running = None
            for line in process.stdout:
                running = re.match(r"MTM is running: gateway on (\S+) \(TLS, CA certificate (.+)\)", line)
                if running:
                    break
            if not running:
                raise RuntimeError(f"mtm-local exited ({process.wait()}) before the suite ran")
            threading.Thread(target=lambda: process.stdout.read(), daemon=True).start()
            yield running.group(1), running.group(2), os.path.join(data_dir, "data", "operator-password")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="gateway HOST:PORT of a running suite (else one is started)")
    parser.add_argument("--cacert", help="CA certificate of that suite's gateway")
    parser.add_argument("--operator-password-file", help="that suite's operator password file")
    args = parser.parse_args()
    if args.address and not (args.cacert and args.operator_password_file):
        parser.error("--address needs --cacert and --operator-password-file")

    suite = (
        contextlib.nullcontext((args.address, args.cacert, args.operator_password_file))
        if args.address
        else local_suite()
    )
    try:
        with suite as (address, cacert, password_file):
            with open(cacert, "rb") as ca, open(password_file, encoding="utf-8") as password:
                credentials = grpc.ssl_channel_credentials(root_certificates=ca.read())
                operator_password = password.read().strip()
            with grpc.secure_channel(address, credentials) as channel:
                play(channel, operator_password)
    except (AssertionError, grpc.RpcError, RuntimeError, OSError) as failure:
        if isinstance(failure, grpc.RpcError):
            failure = f"{failure.code()}: {failure.details()}"
        print(f"story: FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
