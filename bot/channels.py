"""What each channel can do, as its adapter declares it: the chat core and the sweep read this
to write each message for the channel it goes by."""

from collections.abc import Mapping

from bot import console, telegram, zalo
from handlers.chat import Capabilities
from models import Channel

CHANNELS: Mapping[Channel, Capabilities] = {
    Channel.TELEGRAM: telegram.CAPABILITIES,
    Channel.CONSOLE: console.CAPABILITIES,
    Channel.ZALO: zalo.CAPABILITIES,
}
