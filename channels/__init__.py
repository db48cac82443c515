"""Rasa input channels of ours.

- ``channels.whatsapp.WhatsAppInput``: the WhatsApp Business Cloud API, webhook
  ``/webhooks/whatsapp/webhook``, with its durable inbox (``channels/inbox.py``);
- ``channels.rest.CleanRestInput``: Rasa's REST channel with the text cleaned first
  (internal only).
"""
