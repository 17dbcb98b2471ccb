"""The yardstick of `bench.updates`: a python-telegram-bot bot that answers every message with
one sendMessage and does nothing else. Reads TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL."""

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None:
        await update.message.reply_text("ok")


def main() -> None:
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .build()
    )
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, answer))
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
