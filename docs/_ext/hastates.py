"""The HA role diagram, found by driving the role machine itself.

Each role of :mod:`sipredirect.ha.roles` is reached on a fresh machine;
every input the machine takes is then applied, with this node winning and
losing the election, and each role change it makes becomes an edge.  The
picture therefore shows what the code does, not what someone remembered.
"""

from sipredirect.ha import roles

TIMEOUT = 2.0


def _reach(role, configured):
    """A machine in ``role`` whose peer (the other configured role) is alive."""
    machine = roles.RoleMachine("node", configured, 1.0, TIMEOUT)
    peer = roles.BACKUP if configured == roles.PRIMARY else roles.PRIMARY
    machine.start(0.0)
    if role == roles.PRIMARY:
        machine.handle_timer(TIMEOUT)
        machine.heartbeat("peer", peer, roles.BACKUP, TIMEOUT)
    elif role == roles.BACKUP:
        machine.heartbeat("peer", peer, roles.PRIMARY, 0.5)
    assert machine.role == role, (role, machine.role)
    return machine, peer


def _inputs(peer_configured):
    now = TIMEOUT + 0.5
    heartbeat = [("heartbeat: the peer is %s" % role,
                  lambda m, role=role: m.heartbeat("peer", peer_configured, role, now))
                 for role in (roles.STARTING, roles.BACKUP, roles.PRIMARY)]
    return heartbeat + [
        ("no peer heard for dead-peer-timeout",
         lambda m: m.handle_timer(now + 3 * TIMEOUT)),
        ("hand-over from the peer", lambda m: m.handover(now)),
        ("manual switchover", lambda m: m.switchover(now)),
        ("graceful stop (hands the role over)", lambda m: m.stepping_down(now)),
    ]


def transitions():
    """{(from role, to role): {input: set of conditions}} of every role
    change; the condition says which node the election favours."""
    found = {}
    for configured in (roles.PRIMARY, roles.BACKUP):
        condition = ("this node wins the election" if configured == roles.PRIMARY
                     else "the peer wins the election")
        for role in (roles.STARTING, roles.PRIMARY, roles.BACKUP):
            for label, apply in _inputs(_reach(role, configured)[1]):
                machine, _ = _reach(role, configured)
                apply(machine)
                if machine.role != role:
                    edge = found.setdefault((role, machine.role), {})
                    edge.setdefault(label, set()).add(condition)
    return found


def dot():
    """Graphviz source of the role diagram."""
    lines = ["digraph ha_roles {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", '
             'fontname="sans-serif"];',
             '  edge [fontname="sans-serif", fontsize=10];',
             '  start [shape=point, width=0.15, fillcolor=black];',
             '  start -> "%s" [label="twistd starts"];' % roles.STARTING]
    for (source, target), inputs in sorted(transitions().items()):
        labels = []
        for label, conditions in sorted(inputs.items()):
            labels.append(label if len(conditions) > 1
                          else "%s, if %s" % (label, next(iter(conditions))))
        lines.append('  "%s" -> "%s" [label="%s"];' % (source, target,
                                                        "\\n".join(labels)))
    lines.append("}")
    return "\n".join(lines)
