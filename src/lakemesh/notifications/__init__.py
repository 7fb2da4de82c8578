"""Notifications: what happened to data products, told to producers and subscribers in their
inbox and by signed webhooks. Features call :func:`lakemesh.notifications.events.notify_product`
(or ``notify``) with a :class:`lakemesh.notifications.kinds.EventKind`.

Nothing is imported here: the CLI reads the event kinds (``kinds``) at startup, and importing the
package must not pull in the store and the audit chain that ``events`` needs (about 1 s).
"""
