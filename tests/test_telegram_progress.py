from tests.chat_school import OFFICE_HEAD
from tests.telegram_harness import TelegramBot, texts, buttons

MAI = 103


async def test_explore(bot: TelegramBot) -> None:
    await bot.join(MAI, OFFICE_HEAD)
    for text in ["/viec", "/viec iii.4.2", "/viec III.42", "/viec III.4.", "/viec III.11", "/capnhat III.4.2 60 đã số hoá khối 6", "/viec III.4.2", "/vuong III.4.2", "/abc", "/capnhat"]:
        sent = await bot.say(MAI, text)
        print("=====", text)
        for m in sent:
            print(m["plain_text"])
            print("  markup:", m["reply_markup"])
    task = await bot.open_task(MAI, "III.4.4")
    for r in ["80%", "chưa xong"]:
        sent = await bot.reply(MAI, task, r)
        print("=====", r)
        for m in sent:
            print(m["plain_text"])
            print("  markup:", m["reply_markup"])
