"""WhatsApp Business Cloud API channel for Rasa.

Use it in ``credentials.yml`` as ``channels.whatsapp.WhatsAppInput``; the webhook is
``/webhooks/whatsapp/webhook``.
"""
