import SlashDispatch
import SwitchyardRuntime

FunctionMain.run(SlashDispatch())
