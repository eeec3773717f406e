"""Text messages (SMS): the templates, the outbox a use case queues a text in, and its delivery records.

Below accounts (login codes) and notifications (time-critical notices), which both send texts; the
dispatcher that talks to the providers is notifications/sms, wired at the composition root.
"""
